"""Trajectory Studio sandbox worker: one persistent Python state per agent episode.

The host (src/sandbox/sandboxWorker.ts) starts this file once per episode, inside bubblewrap or under
resource limits only, and talks to it in JSON lines over two dedicated file descriptors: requests arrive on
fd 3, replies leave on fd 4. Model-written code prints into a capped in-memory buffer, and anything written
straight to fd 1/2 lands in a private file that is read back (capped) after each step, so nothing the code
prints can corrupt the protocol.

Requests (host -> worker):
  {"op": "exec", "id", "code", "cpuSeconds", "wallSeconds"}
  {"op": "candidates", "id", "codes", "cpuSeconds", "wallSeconds", "keepReady"}
                                        one forked child per candidate; keep `keepReady` idle children
                                        forked after each state change for the next SAG step
  {"op": "adopt", "id", "index"}        candidate `index` becomes the episode state; this process retires
  {"op": "discard", "id"}               drop parked candidates
  {"op": "tool_result", "call", "ok", "text" | "error"}
Replies (worker -> host):
  {"type": "ready", "pid", "python", "fork"}
  {"type": "result", "id", "outcome"}
  {"type": "candidate_result", "id", "candidate", "outcome"}
  {"type": "candidates_done", "id"}
  {"type": "adopted", "id"} / {"type": "discarded", "id"}
  {"type": "tool_call", "id", "call", "candidate"?, "tool", "query"}

The import allowlist here is a policy layer that turns misuse into an error the model can read; the
security boundary is the process isolation around this file.

The `compatibility` setting of the start-up config decides two rules of the step outcome:
  studio     the last value is the last top-level expression's (None after any other statement); the
             execution logs hold stdout and stderr interleaved, and stdout alone is sent beside them
             (`stdoutOutput`) so that warnings never take part in the SAG vote;
  reference  the last value is the last top-level statement's value as the reference's AST interpreter
             computes it (an assignment gives the assigned value, a loop or an `if` the last non-None value
             its body produced, a `def` its function); the logs hold stdout only, stderr is sent apart;
             print() ignores `sep`, `end` and `file` as the reference's does.
"""

import ast
import builtins
import copy
import gc
import io
import json
import os
import signal
import socket
import sys
import tempfile
import time
import types

try:
    import resource
except ImportError:  # Windows: no rlimits; the host says so in its environment report
    resource = None

PROTOCOL_IN_FD = 3
PROTOCOL_OUT_FD = 4

# Python-level print capture keeps this much of the head and of the tail. It is larger than the
# observation cap (50,000 characters, applied by the host) so the host's own head/tail cut decides what the
# model sees; this cap only bounds the worker's memory.
CAPTURE_HEAD_CHARS = 60_000
CAPTURE_TAIL_CHARS = 60_000
RAW_OUTPUT_KEEP_BYTES = 32_768
LAST_VALUE_KEEP_CHARS = 40_000
# After the first timeout signal, repeat it this often in case the code swallowed the exception.
TIMEOUT_REPEAT_SECONDS = 0.5


class StepTimeout(BaseException):
    """Raised inside model code when the step's CPU or wall-clock budget runs out.

    A BaseException so that `except Exception:` in model code does not swallow it.
    """


class FinalAnswerSignal(BaseException):
    """Raised by final_answer(x) to end the step at once, carrying x."""

    def __init__(self, value):
        super().__init__('final_answer called')
        self.value = value


class WebSearchError(RuntimeError):
    """The host's retrieval backend failed; the model reads the message as the tool's exception."""


class Channel:
    """JSON lines over a read fd and a write fd (both may be the same socket)."""

    def __init__(self, read_fd, write_fd):
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.buffer = b''

    def send(self, message):
        data = memoryview((json.dumps(message, ensure_ascii=True) + '\n').encode('ascii'))
        while data:
            written = os.write(self.write_fd, data)
            data = data[written:]

    def has_line(self):
        return b'\n' in self.buffer

    def fill(self):
        """Reads what is available once; False at end of file."""
        chunk = os.read(self.read_fd, 1 << 16)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def take_line(self):
        line, _, self.buffer = self.buffer.partition(b'\n')
        return json.loads(line)

    def recv(self):
        """Blocks for the next message; None at end of file."""
        while not self.has_line():
            if not self.fill():
                return None
        return self.take_line()


class TextSink(io.TextIOBase):
    """What code under test may ask of sys.stdout or sys.stderr: UTF-8, writable, not a terminal."""

    @property
    def encoding(self):
        return 'utf-8'

    def writable(self):
        return True

    def isatty(self):
        return False


class CappedText(TextSink):
    """Stands in for sys.stdout and sys.stderr: keeps head and tail, counts everything."""

    def __init__(self):
        super().__init__()
        self.head_parts = []
        self.head_len = 0
        self.tail_parts = []
        self.tail_len = 0
        self.total = 0

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError('write() argument must be str, not %s' % type(text).__name__)
        length = len(text)
        self.total += length
        if self.head_len < CAPTURE_HEAD_CHARS:
            take = CAPTURE_HEAD_CHARS - self.head_len
            self.head_parts.append(text[:take])
            self.head_len += min(take, length)
            text = text[take:]
        if text:
            self.tail_parts.append(text)
            self.tail_len += len(text)
            if self.tail_len > 2 * CAPTURE_TAIL_CHARS:
                joined = ''.join(self.tail_parts)[-CAPTURE_TAIL_CHARS:]
                self.tail_parts = [joined]
                self.tail_len = len(joined)
        return length

    @property
    def buffer(self):
        """Code that writes bytes to sys.stdout.buffer gets them decoded into the same capture."""
        return _BytesIntoText(self)

    def text(self):
        head = ''.join(self.head_parts)
        tail = ''.join(self.tail_parts)
        if self.tail_len <= CAPTURE_TAIL_CHARS:
            return head + tail
        tail = tail[-CAPTURE_TAIL_CHARS:]
        omitted = self.total - len(head) - len(tail)
        return '%s\n[... %d characters of output omitted ...]\n%s' % (head, omitted, tail)


class TeeText(TextSink):
    """Writes everything to several captures (the shown logs and a per-stream copy)."""

    def __init__(self, *targets):
        super().__init__()
        self.targets = targets

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError('write() argument must be str, not %s' % type(text).__name__)
        for target in self.targets:
            target.write(text)
        return len(text)

    @property
    def buffer(self):
        return _BytesIntoText(self)


class _BytesIntoText(io.RawIOBase):
    def __init__(self, target):
        super().__init__()
        self.target = target

    def writable(self):
        return True

    def write(self, data):
        self.target.write(bytes(data).decode('utf-8', 'replace'))
        return len(data)


class RawOutput:
    """fd 1 and fd 2 point at a private temporary file; read back (capped) and emptied after each step."""

    def __init__(self):
        handle = tempfile.TemporaryFile()
        self.fd = os.dup(handle.fileno())
        handle.close()
        os.dup2(self.fd, 1)
        os.dup2(self.fd, 2)

    def take(self):
        try:
            size = os.fstat(self.fd).st_size
        except OSError:
            return ''
        if size == 0:
            return ''
        try:
            if size <= RAW_OUTPUT_KEEP_BYTES:
                data = os.pread(self.fd, size, 0)
                text = data.decode('utf-8', 'replace')
            else:
                half = RAW_OUTPUT_KEEP_BYTES // 2
                head = os.pread(self.fd, half, 0).decode('utf-8', 'replace')
                tail = os.pread(self.fd, half, size - half).decode('utf-8', 'replace')
                text = '%s\n[... %d bytes written to the process output omitted ...]\n%s' % (head, size - 2 * half, tail)
            os.ftruncate(self.fd, 0)
            os.lseek(self.fd, 0, os.SEEK_SET)
            return text
        except OSError:
            return ''


class Budget:
    """Per-step CPU (ITIMER_PROF) and wall-clock (ITIMER_REAL) budgets that raise StepTimeout in model code."""

    def __init__(self):
        self.armed = False
        self.reason = ''
        self.paused_real = 0.0
        self.cpu_seconds = 0
        self.wall_seconds = 0
        # Windows has no interval timers: only the host's wall-clock kill applies there.
        self.available = hasattr(signal, 'setitimer') and hasattr(signal, 'SIGPROF')
        if self.available:
            signal.signal(signal.SIGPROF, self._on_cpu)
            signal.signal(signal.SIGALRM, self._on_wall)

    def _on_cpu(self, _signum, _frame):
        if self.armed:
            self.reason = 'cpu'
            raise StepTimeout('the step used more than its CPU time budget of %g s and was interrupted; '
                              'variables assigned before the interruption are kept' % self.cpu_seconds)

    def _on_wall(self, _signum, _frame):
        if self.armed:
            self.reason = 'wall'
            raise StepTimeout('the step ran longer than its wall-clock budget of %g s and was interrupted; '
                              'variables assigned before the interruption are kept' % self.wall_seconds)

    def arm(self, cpu_seconds, wall_seconds):
        self.reason = ''
        self.armed = True
        self.cpu_seconds = cpu_seconds or 0
        self.wall_seconds = wall_seconds or 0
        if not self.available:
            return
        if cpu_seconds and cpu_seconds > 0:
            signal.setitimer(signal.ITIMER_PROF, cpu_seconds, TIMEOUT_REPEAT_SECONDS)
        if wall_seconds and wall_seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, wall_seconds, TIMEOUT_REPEAT_SECONDS)

    def disarm(self):
        self.armed = False
        if not self.available:
            return
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)

    def pause_wall(self):
        """Waiting for the host's tool answer does not count against the step."""
        if not self.available:
            return 0.0
        remaining, interval = signal.setitimer(signal.ITIMER_REAL, 0)
        self.paused_real = remaining
        return interval

    def resume_wall(self, interval):
        if self.available and self.armed and self.paused_real > 0:
            signal.setitimer(signal.ITIMER_REAL, self.paused_real, interval)


class Worker:
    def __init__(self, config):
        self.config = config
        allowed = config.get('allowedImports')
        self.allowed_imports = None if allowed is None or '*' in allowed else frozenset(allowed)
        self.reference_rules = config.get('compatibility') == 'reference'
        self.host = Channel(PROTOCOL_IN_FD, PROTOCOL_OUT_FD)
        self.channel = self.host
        self.candidate_index = None
        self.exec_id = 0
        self.tool_call_seq = 0
        self.budget = Budget()
        self.raw_output = RawOutput()
        self.namespace = self._fresh_namespace()
        self.parked = {}  # candidate index -> (pid, socket)
        self.owner_pid = os.getpid()
        self.unreaped = []  # killed candidates not yet waited for
        self.child_socks = set()  # parent-side sockets of every live candidate child
        self.standby = []  # idle children forked from the current state: [(pid, socket)]
        self.standby_target = 0

    # ---- the model's namespace -------------------------------------------------------------------

    def _fresh_namespace(self):
        user_builtins = dict(builtins.__dict__)
        if self.allowed_imports is not None:
            user_builtins['__import__'] = self._guarded_import
        if self.reference_rules:
            user_builtins['print'] = reference_print
        namespace = {'__name__': '__main__', '__builtins__': user_builtins}
        namespace['final_answer'] = final_answer
        namespace['web_search'] = self._make_web_search()
        return namespace

    def _guarded_import(self, name, globals=None, locals=None, fromlist=(), level=0):
        # Only imports written in model code reach this (library modules keep the real __import__),
        # so numpy may import os internally while `import os` in model code is refused.
        if level == 0 and not self._import_allowed(name):
            error = ImportError('Import of %r is not allowed in this sandbox. Allowed modules: %s.'
                                % (name, ', '.join(sorted(self.allowed_imports))))
            error.sandbox_policy = True
            raise error
        return builtins.__import__(name, globals, locals, fromlist, level)

    def _import_allowed(self, name):
        parts = name.split('.')
        return any('.'.join(parts[:i + 1]) in self.allowed_imports for i in range(len(parts)))

    def _make_web_search(self):
        worker = self

        def web_search(query):
            """Searches the retrieval index and returns the top passages as text."""
            if not isinstance(query, str):
                raise TypeError('web_search() expects the query as a string, got %s' % type(query).__name__)
            return worker.call_tool('web_search', query)

        return web_search

    def call_tool(self, tool, query):
        if os.getpid() != self.owner_pid:
            raise RuntimeError('%s cannot be called from a process forked by the code' % tool)
        self.tool_call_seq += 1
        call = self.tool_call_seq
        message = {'type': 'tool_call', 'id': self.exec_id, 'call': call, 'tool': tool, 'query': query}
        if self.candidate_index is not None:
            message['candidate'] = self.candidate_index
        interval = self.budget.pause_wall()
        try:
            self.channel.send(message)
            while True:
                reply = self.channel.recv()
                if reply is None:
                    os._exit(0)  # the host is gone
                if reply.get('op') == 'tool_result' and reply.get('call') == call:
                    break
        finally:
            self.budget.resume_wall(interval)
        if reply.get('ok'):
            return reply.get('text', '')
        raise WebSearchError(reply.get('error') or 'web_search failed')

    # ---- running one step ------------------------------------------------------------------------

    def run_code(self, code, cpu_seconds, wall_seconds):
        started = time.perf_counter()
        self.owner_pid = os.getpid()
        capture = StepCapture(self.reference_rules)
        outcome = {'lastValue': 'None'}
        try:
            tree = ast.parse(code)
        except SyntaxError as error:
            outcome['error'] = parse_error(error)
            outcome['syntax'] = {'text': error.text, 'offset': error.offset}
            return self._finish(outcome, capture, started)
        except (ValueError, MemoryError, RecursionError) as error:  # e.g. null bytes, absurd nesting
            outcome['error'] = {'kind': 'parse', 'type': type(error).__name__, 'message': str(error), 'line': 1}
            return self._finish(outcome, capture, started)

        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = capture.stdout, capture.stderr
        body = tree.body
        node = None
        try:
            self.budget.arm(cpu_seconds, wall_seconds)
            for position, node in enumerate(body):
                last = position == len(body) - 1
                if last and isinstance(node, ast.Expr):
                    value = eval(compile(ast.Expression(node.value), '<code>', 'eval'), self.namespace)
                    # str() runs model code (__str__) too, so it stays under the step's budget.
                    outcome['lastValue'] = self._value_text(value)
                elif last and self.reference_rules:
                    outcome['lastValue'] = self._value_text(self._run_recording_value(node))
                else:
                    exec(compile(ast.Module([node], type_ignores=[]), '<code>', 'exec'), self.namespace)
            self.budget.disarm()
        except FinalAnswerSignal as signal_:
            outcome['finalAnswer'] = safe_str(signal_.value)
            self.budget.disarm()
            outcome['lastValue'] = outcome['finalAnswer']
        except StepTimeout as error:
            self.budget.disarm()
            outcome['error'] = self._execution_error(code, node, error, 'timeout')
        except BaseException as error:  # model code may raise anything, SystemExit included
            self.budget.disarm()
            kind = 'policy' if getattr(error, 'sandbox_policy', False) else 'execution'
            outcome['error'] = self._execution_error(code, node, error, kind)
        finally:
            self.budget.disarm()
            sys.stdout, sys.stderr = saved
        return self._finish(outcome, capture, started)

    def _value_text(self, value):
        if self.reference_rules:
            text = reference_object_text(value)
            if text is not None:
                return text
        return safe_str(value, timeout_is_error=True)

    def _run_recording_value(self, node):
        """Runs the last top-level statement and returns its value by the reference's rules (None if it has none)."""
        recorder = LastValueRecorder()
        module = ast.Module(record_statement_values([node]), type_ignores=[])
        ast.fix_missing_locations(module)
        # The recorder is reachable as a builtin, so it never shows among the model's variables.
        names = self.namespace.get('__builtins__')
        if not isinstance(names, dict):
            names = self.namespace
        names[RECORDER_NAME] = recorder
        try:
            exec(compile(module, '<code>', 'exec'), self.namespace)
        finally:
            names.pop(RECORDER_NAME, None)
        return recorder.value

    def _execution_error(self, code, node, error, kind):
        details = {'kind': kind, 'type': type(error).__name__, 'message': safe_str(error)}
        if node is not None:
            details['line'] = node.lineno
            try:
                details['statement'] = ast.get_source_segment(code, node) or ''
            except Exception:
                details['statement'] = ''
        return details

    def _finish(self, outcome, capture, started):
        if os.getpid() != self.owner_pid:
            # A process forked by model code (os.fork, a fork bomb) finished the code: it must never answer
            # the host or read its requests, so it leaves quietly.
            os._exit(0)
        outcome['printOutput'] = capture.logs.text()
        outcome['printedChars'] = capture.logs.total
        if capture.stderr_only.total:
            outcome['stderrOutput'] = capture.stderr_only.text()
            if capture.stdout_only is not None:
                outcome['stdoutOutput'] = capture.stdout_only.text()
        raw = self.raw_output.take()
        if raw:
            outcome['rawOutput'] = raw
        outcome['workerMs'] = (time.perf_counter() - started) * 1000.0
        return outcome

    # ---- SAG candidates: one forked child per candidate ------------------------------------------
    #
    # Every candidate runs in a child forked from the current state, so none sees another's side effects and
    # this process's state stays as it was. Children park after reporting; adopting one makes it the worker
    # (no re-run). After a state change the worker forks `standby_target` idle children ahead of time, so the
    # next SAG step does not wait for fork() (slow for a large process in a VM).

    def _fork_child(self):
        """Forks an idle candidate child; returns (pid, parent-side socket)."""
        parent_sock, child_sock = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            parent_sock.close()
            for sock in self.child_socks:
                sock.close()
            self.child_socks = set()
            self._candidate_child(child_sock)
            os._exit(0)  # not reached
        child_sock.close()
        self.child_socks.add(parent_sock)
        return pid, parent_sock

    def _close_child_sock(self, sock):
        self.child_socks.discard(sock)
        sock.close()

    def _kill_later(self, pid, sock):
        # Kill now, reap later: waiting for each exit here would put the kernel's teardown of every
        # candidate's address space on the critical path of the next step.
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._close_child_sock(sock)
        self.unreaped.append(pid)

    def discard_parked(self):
        for pid, sock in self.parked.values():
            self._kill_later(pid, sock)
        self.parked = {}

    def discard_standby(self):
        for pid, sock in self.standby:
            self._kill_later(pid, sock)
        self.standby = []

    def refill_standby(self):
        if not hasattr(os, 'fork'):
            return
        self.reap_finished()
        if len(self.standby) >= self.standby_target:
            return
        # Objects alive now become permanent for the cyclic collector, so a collection inside a child does
        # not write to (and so copy) every inherited page.
        gc.freeze()
        while len(self.standby) < self.standby_target:
            try:
                self.standby.append(self._fork_child())
            except OSError:
                return  # at the process limit: the next SAG step forks on demand instead

    def reap_finished(self):
        still_running = []
        for pid in self.unreaped:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if done == 0:
                still_running.append(pid)
        self.unreaped = still_running

    def _candidate_child(self, sock):
        self.unreaped = []  # the parent's children are not ours to wait for
        self.parked = {}
        self.standby = []
        self.channel = Channel(sock.fileno(), sock.fileno())
        self._candidate_sock = sock  # keep the socket object alive
        self.host.buffer = b''
        self.raw_output = RawOutput()  # siblings must not share one file offset
        # Warm up while idle: running the step machinery once copies the pages it writes to now, instead of
        # page-faulting on them when the candidate's code arrives.
        json.dumps(self.run_code('None', None, None))
        message = self.channel.recv()
        if message is None or message.get('op') != 'run':
            os._exit(0)
        index = message['index']
        self.candidate_index = index
        self.exec_id = message.get('id', 0)
        outcome = self.run_code(message['code'], message.get('cpuSeconds'), message.get('wallSeconds'))
        self.channel.send({'type': 'candidate_result', 'candidate': index, 'outcome': outcome})
        while True:
            message = self.channel.recv()
            if message is None or message.get('op') == 'exit':
                os._exit(0)
            if message.get('op') == 'adopt':
                self.candidate_index = None
                self.channel = self.host
                self.host.buffer = b''
                self.owner_pid = os.getpid()
                self.host.send({'type': 'adopted', 'id': message.get('id')})
                self.refill_standby()
                self.serve()
                os._exit(0)

    def run_candidates(self, request):
        self.discard_parked()
        self.reap_finished()
        codes = request['codes']
        cpu_seconds = request.get('cpuSeconds')
        wall_seconds = request.get('wallSeconds')
        request_id = request['id']
        self.standby_target = max(0, min(int(request.get('keepReady') or 0), 16))
        hard_limit = wall_seconds + 1.0 if wall_seconds else None
        children = {}  # index -> dict(pid, sock, channel, deadline, done, waiting_since)
        for index, code in enumerate(codes):
            try:
                pid, parent_sock = self.standby.pop(0) if self.standby else self._fork_child()
            except OSError as error:
                self.host.send({'type': 'candidate_result', 'id': request_id, 'candidate': index,
                                'outcome': lost_candidate_outcome(
                                    'crash', 'ProcessLimit',
                                    'no process could be started for this candidate (%s)' % error)})
                continue
            channel = Channel(parent_sock.fileno(), parent_sock.fileno())
            channel.send({'op': 'run', 'id': request_id, 'index': index, 'code': code,
                          'cpuSeconds': cpu_seconds, 'wallSeconds': wall_seconds})
            children[index] = {
                'pid': pid, 'sock': parent_sock, 'channel': channel,
                'deadline': time.monotonic() + hard_limit if hard_limit else None, 'done': False,
                'waiting_since': None,
            }
        self._supervise_candidates(request_id, children)
        self.parked = {index: (child['pid'], child['sock']) for index, child in children.items() if child['pid']}
        self.host.send({'type': 'candidates_done', 'id': request_id})

    def _supervise_candidates(self, request_id, children):
        import select

        def finish(index, outcome):
            child = children[index]
            child['done'] = True
            self.host.send({'type': 'candidate_result', 'id': request_id, 'candidate': index, 'outcome': outcome})

        def drop(index):
            child = children[index]
            status = kill_and_reap(child['pid'])
            child['pid'] = 0
            self._close_child_sock(child['sock'])
            return status

        while not all(child['done'] for child in children.values()):
            now = time.monotonic()
            for index, child in children.items():
                if child['done'] or child['deadline'] is None or child['waiting_since'] is not None:
                    continue
                if now >= child['deadline']:
                    drop(index)
                    finish(index, lost_candidate_outcome(
                        'killed', 'WallClockTimeout',
                        'the candidate ran past its wall-clock limit (probably stuck inside a C function) and was stopped'))
            pending = [child for child in children.values() if not child['done']]
            if not pending:
                break
            timeouts = [child['deadline'] - now for child in pending
                        if child['deadline'] is not None and child['waiting_since'] is None]
            timeout = max(0.0, min(timeouts)) if timeouts else None
            read_fds = [PROTOCOL_IN_FD] + [child['sock'].fileno() for child in pending]
            if self.host.has_line():
                ready = [PROTOCOL_IN_FD]
            else:
                ready, _, _ = select.select(read_fds, [], [], timeout)
            if PROTOCOL_IN_FD in ready:
                if not self.host.has_line() and not self.host.fill():
                    os._exit(0)
                while self.host.has_line():
                    message = self.host.take_line()
                    if message.get('op') == 'tool_result':
                        child = children.get(message.get('candidate'))
                        if child and not child['done']:
                            if child['waiting_since'] is not None and child['deadline'] is not None:
                                child['deadline'] += time.monotonic() - child['waiting_since']
                            child['waiting_since'] = None
                            child['channel'].send(message)
            for index, child in children.items():
                if child['done'] or child['sock'].fileno() not in ready:
                    continue
                try:
                    alive = child['channel'].fill()
                except OSError:
                    alive = False
                while child['channel'].has_line():
                    message = child['channel'].take_line()
                    if message.get('type') == 'tool_call':
                        message['id'] = request_id
                        message['candidate'] = index
                        child['waiting_since'] = time.monotonic()
                        self.host.send(message)
                    elif message.get('type') == 'candidate_result':
                        finish(index, message['outcome'])
                if not alive and not child['done']:
                    status = drop(index)
                    finish(index, lost_candidate_outcome('crash', 'WorkerCrash', describe_exit(status)))

    def adopt(self, request):
        index = request['index']
        if index not in self.parked:
            self.host.send({'type': 'adopt_failed', 'id': request['id'],
                            'message': 'candidate %r is not available to adopt' % (index,)})
            return
        chosen_pid, chosen_sock = self.parked.pop(index)
        self.discard_parked()
        self.discard_standby()
        Channel(chosen_sock.fileno(), chosen_sock.fileno()).send({'op': 'adopt', 'id': request['id']})
        self._close_child_sock(chosen_sock)
        # This process now holds a stale state; it retires into a tiny waiter that keeps the process tree
        # (and so the sandbox) alive until the adopted child exits, and frees the stale memory.
        os.close(PROTOCOL_IN_FD)
        os.close(PROTOCOL_OUT_FD)
        waiter = ('import os, sys\n'
                  'status = 0\n'
                  'while True:\n'
                  '    try:\n'
                  '        pid, status = os.wait()\n'
                  '    except ChildProcessError:\n'
                  '        break\n'
                  'code = os.waitstatus_to_exitcode(status)\n'
                  'sys.exit(code if code >= 0 else 128 - code)\n')
        try:
            os.execv(sys.executable, [sys.executable, '-I', '-S', '-c', waiter])
        except OSError:
            # Cannot exec: wait here instead (keeps the stale memory, still correct).
            while True:
                try:
                    os.wait()
                except ChildProcessError:
                    os._exit(0)
        del chosen_pid

    # ---- the request loop ------------------------------------------------------------------------

    def serve(self):
        while True:
            request = self.host.recv()
            if request is None:
                self.discard_parked()
                self.discard_standby()
                return
            op = request.get('op')
            self.exec_id = request.get('id', 0)
            if self.unreaped:
                self.reap_finished()
            if op == 'exec':
                self.discard_parked()
                self.discard_standby()  # forked from the state this step is about to change
                outcome = self.run_code(request['code'], request.get('cpuSeconds'), request.get('wallSeconds'))
                self.host.send({'type': 'result', 'id': self.exec_id, 'outcome': outcome})
                self.refill_standby()
            elif op == 'candidates':
                self.run_candidates(request)
            elif op == 'adopt':
                self.adopt(request)
            elif op == 'discard':
                self.discard_parked()
                self.host.send({'type': 'discarded', 'id': self.exec_id})
            elif op == 'tool_result':
                pass  # a late answer to a call that was abandoned
            else:
                self.host.send({'type': 'protocol_error', 'id': self.exec_id, 'message': 'unknown op %r' % (op,)})


class StepCapture:
    """Where one step's output goes.

    studio: stdout and stderr interleaved in the logs, each stream also kept apart (stdout for the vote).
    reference: the logs are stdout alone (the reference shows only what print wrote); stderr is kept apart.
    """

    def __init__(self, reference_rules):
        self.logs = CappedText()
        self.stderr_only = CappedText()
        if reference_rules:
            self.stdout_only = None
            self.stdout = self.logs
            self.stderr = self.stderr_only
        else:
            self.stdout_only = CappedText()
            self.stdout = TeeText(self.logs, self.stdout_only)
            self.stderr = TeeText(self.logs, self.stderr_only)


RECORDER_NAME = '__trajectory_studio_record_value__'


class LastValueRecorder:
    """Keeps the last non-None value handed to it and passes every value through unchanged."""

    def __init__(self):
        self.value = None

    def __call__(self, value):
        if value is not None:
            self.value = value
        return value


def _recorded(expression, like):
    call = ast.Call(func=ast.Name(id=RECORDER_NAME, ctx=ast.Load()), args=[expression], keywords=[])
    return ast.copy_location(call, like)


def _record_after(expression, like):
    return ast.copy_location(ast.Expr(value=_recorded(expression, like)), like)


def _as_load(target):
    loaded = copy.deepcopy(target)
    loaded.ctx = ast.Load()
    return loaded


def record_statement_values(statements):
    """The statements with every value the reference's interpreter would count recorded in execution order.

    The reference gives a statement's value as: an expression's value; an assignment's right-hand side; an
    augmented assignment's new value; a `def` or `class`, the object it creates; a `for` loop or an `if`, the
    last non-None value of the statements of its body (or branch) that ran (a loop's `else` is not counted:
    the reference never runs it); everything else (import, while, with, try, del, pass...) None. Recording
    every non-None value of that nesting in order and keeping the last one gives the same answer.
    """
    recorded = []
    for statement in statements:
        if isinstance(statement, ast.Expr):
            recorded.append(ast.copy_location(ast.Expr(value=_recorded(statement.value, statement)), statement))
        elif isinstance(statement, ast.Assign):
            recorded.append(ast.copy_location(
                ast.Assign(targets=statement.targets, value=_recorded(statement.value, statement),
                           type_comment=statement.type_comment), statement))
        elif isinstance(statement, ast.AugAssign):
            # The new value is read back from the target (the reference evaluates the target twice as well).
            recorded.extend([statement, _record_after(_as_load(statement.target), statement)])
        elif isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            recorded.extend([statement, _record_after(ast.Name(id=statement.name, ctx=ast.Load()), statement)])
        elif isinstance(statement, ast.For):
            recorded.append(ast.copy_location(
                ast.For(target=statement.target, iter=statement.iter, body=record_statement_values(statement.body),
                        orelse=statement.orelse, type_comment=statement.type_comment), statement))
        elif isinstance(statement, ast.If):
            recorded.append(ast.copy_location(
                ast.If(test=statement.test, body=record_statement_values(statement.body),
                       orelse=record_statement_values(statement.orelse)), statement))
        else:
            recorded.append(statement)
    return recorded


def reference_print(*values, **_ignored):
    """print() as the reference's interpreter runs it: the values joined by one space and a newline, always
    to the logs; `sep`, `end`, `file` and `flush` are accepted and ignored."""
    sys.stdout.write(' '.join(str(value) for value in values) + '\n')


def reference_object_text(value):
    """How the reference shows functions and classes defined by model code (its interpreter builds them
    itself, so their text names its own internals); None for every other value."""
    try:
        if type(value) is types.FunctionType and value.__code__.co_filename == '<code>':
            if value.__name__ == '<lambda>':
                return '<function evaluate_lambda.<locals>.lambda_func at 0x%x>' % id(value)
            return '<function create_function.<locals>.new_func at 0x%x>' % id(value)
        if isinstance(type(value), type) and issubclass(type(value), type) and value.__module__ == '__main__':
            return "<class 'smolagents.local_python_executor.%s'>" % value.__name__
    except StepTimeout:
        raise
    except BaseException:  # a hostile metaclass must not take the step down; str() decides then
        return None
    return None


def final_answer(answer):
    """Ends the step at once and gives `answer` as the episode's final answer."""
    raise FinalAnswerSignal(answer)


def safe_str(value, timeout_is_error=False):
    try:
        text = str(value)
    except StepTimeout:
        if timeout_is_error:
            raise
        text = '<str() was interrupted: it ran past the step budget>'
    except BaseException as error:  # a broken __str__ in model code must not take the worker down
        text = '<str() failed: %s: %s>' % (type(error).__name__, error)
    if len(text) > LAST_VALUE_KEEP_CHARS:
        half = LAST_VALUE_KEEP_CHARS // 2
        text = '%s\n[... %d characters omitted ...]\n%s' % (text[:half], len(text) - 2 * half, text[-half:])
    return text


def parse_error(error):
    details = {'kind': 'parse', 'type': type(error).__name__, 'message': str(error)}
    if error.lineno is not None:
        details['line'] = error.lineno
    if error.text is not None:
        details['statement'] = error.text.rstrip('\n')
    if error.offset is not None:
        details['offset'] = error.offset
    return details


def lost_candidate_outcome(kind, error_type, message):
    return {'lastValue': 'None', 'printOutput': '', 'printedChars': 0,
            'error': {'kind': kind, 'type': error_type, 'message': message}}


def kill_and_reap(pid):
    if not pid:
        return 0
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        _, status = os.waitpid(pid, 0)
        return status
    except ChildProcessError:
        return 0


def describe_exit(status):
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = 'signal %d' % number
        return 'the candidate process died (%s)' % name
    return 'the candidate process exited with status %d' % os.WEXITSTATUS(status)


def apply_limits(config):
    if resource is None:
        return
    limits = [
        (resource.RLIMIT_AS, config.get('memoryBytes')),
        (resource.RLIMIT_FSIZE, config.get('fileSizeBytes')),
        (resource.RLIMIT_NOFILE, config.get('openFiles')),
        (resource.RLIMIT_CORE, 0),
    ]
    if config.get('processes'):
        limits.append((resource.RLIMIT_NPROC, config['processes']))
    elif config.get('processesAboveCurrent') and hasattr(resource, 'RLIMIT_NPROC'):
        # Outside a user namespace RLIMIT_NPROC counts every task of the user, so a fixed number would break
        # a busy desktop; allow a margin above what the user already runs instead.
        current = count_user_tasks()
        if current is not None:
            limits.append((resource.RLIMIT_NPROC, current + config['processesAboveCurrent']))
    for which, value in limits:
        if value is None:
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            # Never raise a limit above what the host already imposed.
            soft, hard = resource.getrlimit(which)
            if hard == resource.RLIM_INFINITY or value < hard:
                resource.setrlimit(which, (value, hard))


def count_user_tasks():
    """Processes and threads of this real uid (Linux /proc); None where that cannot be counted."""
    if not os.path.isdir('/proc/self/task'):
        return None
    uid = os.getuid()
    total = 0
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            if os.stat('/proc/' + entry).st_uid != uid:
                continue
            total += len(os.listdir('/proc/%s/task' % entry))
        except OSError:
            continue
    return total


def die_with_host():
    """Without bubblewrap nobody kills us when the host dies; ask the kernel to (Linux only)."""
    if not sys.platform.startswith('linux'):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:
            os._exit(0)
    except Exception:
        pass


def main():
    global CAPTURE_HEAD_CHARS, CAPTURE_TAIL_CHARS, RAW_OUTPUT_KEEP_BYTES
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    CAPTURE_HEAD_CHARS = CAPTURE_TAIL_CHARS = int(config.get('captureChars') or CAPTURE_HEAD_CHARS)
    RAW_OUTPUT_KEEP_BYTES = int(config.get('rawOutputBytes') or RAW_OUTPUT_KEEP_BYTES)
    if config.get('dieWithHost'):
        die_with_host()
    apply_limits(config)
    for fd in (PROTOCOL_IN_FD, PROTOCOL_OUT_FD):
        os.set_inheritable(fd, False)  # subprocesses started by model code must not see the protocol
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    worker = Worker(config)
    worker.host.send({'type': 'ready', 'pid': os.getpid(), 'python': sys.version.split()[0],
                      'fork': hasattr(os, 'fork')})
    worker.serve()


if __name__ == '__main__':
    main()
