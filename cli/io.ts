/** Where a command's lines go (the process's stdout/stderr, or a test's arrays). */
export interface Io {
    out(line: string): void;
    err(line: string): void;
    /** Environment for child processes (PATH is searched for pulumi). */
    readonly env: NodeJS.ProcessEnv;
}
