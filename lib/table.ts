/** Plain-text tables for the terminal: columns padded to their widest cell. */
export function renderTable(
    header: readonly string[],
    rows: readonly (readonly string[])[],
    opts: { separator: string; rule?: boolean },
): string[] {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: readonly string[]) =>
        cells
            .map((cell, i) => cell.padEnd(widths[i]))
            .join(opts.separator)
            .trimEnd();
    // The rule under the header: dashes for cells, the separator with its spaces as dashes.
    const rule = opts.rule ? [widths.map((w) => "-".repeat(w)).join(opts.separator.replace(/ /g, "-"))] : [];
    return [line(header), ...rule, ...rows.map(line)];
}
