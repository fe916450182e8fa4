/**
 * The exit codes of every command of the release tool (status, start, canary, flip, rollback,
 * finish, pin, promote, route, sync, verify, plan, rollout). One table, decided here and only
 * in cli/: pipelines branch on these numbers (docs/release-tool.md "Exit codes").
 */
export const EXIT = {
    /** Done, or already so (a step run again after it succeeded writes nothing). */
    ok: 0,
    /** Refused by a check of the release itself (nothing written), or rolled back cleanly. */
    refused: 1,
    /** Usage error or bad input: unknown flag, repeated flag, missing stack file. Nothing written. */
    usage: 2,
    /**
     * A person must act: the stack file and AWS may differ (a rollback written but its apply
     * failed or was killed, an apply refused by a concurrent update, a state the tool cannot know).
     * `sync` applies what the file says.
     */
    personMustAct: 3,
    /** The tool itself crashed (a bug or an unexpected error): what it did last is unknown. */
    crashed: 4,
    /** Interrupted by a signal (Ctrl-C) outside an apply; the message says where the release is. */
    interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
