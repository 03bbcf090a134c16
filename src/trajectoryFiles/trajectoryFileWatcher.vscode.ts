import * as vscode from 'vscode';

/** Trajectory files in the workspace, by name. */
export const trajectoryFileGlob = '**/*.traj.jsonl';

let shared: { watcher: vscode.FileSystemWatcher; users: number } | undefined;

/** The events of the shared watcher; disposing releases this user's share. */
export interface TrajectoryFileEvents extends vscode.Disposable {
  onDidCreate: vscode.Event<vscode.Uri>;
  onDidChange: vscode.Event<vscode.Uri>;
  onDidDelete: vscode.Event<vscode.Uri>;
}

/**
 * The one workspace watcher for `*.traj.jsonl` files, shared by the Trajectories view and the editor's review
 * counts (each workspace-wide watcher costs a recursive watch). It is disposed with its last user.
 */
export function watchTrajectoryFiles(): TrajectoryFileEvents {
  shared ??= { watcher: vscode.workspace.createFileSystemWatcher(trajectoryFileGlob), users: 0 };
  const entry = shared;
  entry.users++;
  let released = false;
  return {
    onDidCreate: entry.watcher.onDidCreate,
    onDidChange: entry.watcher.onDidChange,
    onDidDelete: entry.watcher.onDidDelete,
    dispose() {
      if (released) return;
      released = true;
      if (--entry.users === 0) {
        entry.watcher.dispose();
        if (shared === entry) shared = undefined;
      }
    },
  };
}
