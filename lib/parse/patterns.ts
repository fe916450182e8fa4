/** Patterns and limits shared by the section parsers. */
export const CIDR_PATTERN =
    /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/;
export const CIDR = { pattern: CIDR_PATTERN, hint: "must be a CIDR block such as 203.0.113.0/24" };
