// Records in the shape the method's reference implementation saves them (one JSON line each, `log_data` holding
// the smolagents conversation with text parts), for tests of Import…. The texts are our own.

export interface ReferenceRecordSpec {
  question: string;
  trueAnswer: string;
  /** The Python the teacher wrote; it ends with final_answer(...). */
  code: string;
  /** What the code printed. */
  printed: string;
  generatedAnswer: string;
  score: number;
}

const text = (t: string) => [{ type: 'text', text: t }];

/** One reference record as a JSON object (log_data as an object; the Hugging Face copies store it as a string). */
export function referenceRecord(spec: ReferenceRecordSpec): Record<string, unknown> {
  return {
    model_id: 'fixture-teacher',
    question: spec.question,
    true_answer: spec.trueAnswer,
    generated_answer: spec.generatedAnswer,
    score: spec.score,
    log_data: {
      messages: [
        { role: 'system', content: text('You solve problems by writing Python. (fixture system prompt)') },
        { role: 'user', content: text(`New task:\n${spec.question}`) },
        { role: 'assistant', content: text(`Thought: I will compute it.\nCode:\n\`\`\`py\n${spec.code}\n\`\`\`<end_code>`) },
        { role: 'tool-call', content: text("Calling tools:\n[{'id': 'call_1', 'type': 'function', 'function': {'name': 'python_interpreter'}}]") },
        { role: 'tool-response', content: text(`Call id: call_1\nObservation:\nExecution logs:\n${spec.printed}Last output from code snippet:\n${spec.generatedAnswer}`) },
      ],
    },
  };
}

/**
 * A small records file as text: two good math records (one answered wrongly) and, on line 3, a record whose
 * `log_data` is a string that is not JSON, which an import must skip and name.
 */
export function referenceRecordsFile(): { text: string; badLine: number; good: ReferenceRecordSpec[] } {
  const good: ReferenceRecordSpec[] = [
    { question: 'What is 17 times 23?', trueAnswer: '391', code: 'x = 17 * 23\nprint(x)\nfinal_answer(x)', printed: '391\n', generatedAnswer: '391', score: 1 },
    { question: 'What is 2 to the power 10?', trueAnswer: '1024', code: 'x = 2 ** 9\nprint(x)\nfinal_answer(x)', printed: '512\n', generatedAnswer: '512', score: 0 },
  ];
  const bad = { question: 'What is 9 plus 10?', true_answer: '19', generated_answer: '19', score: 1, log_data: '{"messages": [ this is not JSON' };
  const lines = [...good.map((g) => JSON.stringify(referenceRecord(g))), JSON.stringify(bad)];
  return { text: lines.join('\n') + '\n', badLine: 3, good };
}
