/**
 * Address ranges that never appear as a client's source address at an internet-facing load
 * balancer. Its nodes have public addresses only ("The nodes of an Internet-facing load balancer
 * have public IP addresses", CreateLoadBalancer `Scheme`,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html),
 * so a client reaches them over the internet side: a client inside the VPC by its own public
 * address or its NAT gateway's ("The NAT gateway replaces the source IP address of the instances
 * with the IP address of the NAT gateway", https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html),
 * a VPN user by the VPN's public egress address. A security group rule for one of these ranges
 * on the test listener admits no one.
 */

interface Range {
    readonly cidr: string;
    readonly name: string;
}

const NON_PUBLIC_RANGES: readonly Range[] = [
    { cidr: "10.0.0.0/8", name: "private (RFC 1918)" },
    { cidr: "172.16.0.0/12", name: "private (RFC 1918)" },
    { cidr: "192.168.0.0/16", name: "private (RFC 1918)" },
    { cidr: "100.64.0.0/10", name: "carrier-grade NAT shared (RFC 6598)" },
    { cidr: "169.254.0.0/16", name: "link-local" },
    { cidr: "127.0.0.0/8", name: "loopback" },
    { cidr: "fc00::/7", name: "IPv6 unique local (RFC 4193)" },
    { cidr: "fe80::/10", name: "IPv6 link-local" },
    { cidr: "::1/128", name: "IPv6 loopback" },
];

/** A CIDR block as [first address, prefix length, address bits]; undefined if it does not parse. */
function parseCidr(cidr: string): { base: bigint; length: number; bits: number } | undefined {
    const [address, lengthText] = cidr.split("/");
    const length = Number(lengthText);
    if (address.includes(":")) {
        const halves = address.split("::");
        if (halves.length > 2) return undefined;
        const groups = (h: string) => (h === "" ? [] : h.split(":"));
        const head = groups(halves[0]);
        const tail = halves.length === 2 ? groups(halves[1]) : [];
        const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
        const all = [...head, ...Array<string>(Math.max(fill, 0)).fill("0"), ...tail];
        if (all.length !== 8 || !all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
        return { base: all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n), length, bits: 128 };
    }
    const octets = address.split(".").map(Number);
    if (octets.length !== 4) return undefined;
    return { base: octets.reduce((n, o) => (n << 8n) | BigInt(o), 0n), length, bits: 32 };
}

/** Whether every address of `inner` lies in `outer`. */
function within(inner: string, outer: string): boolean {
    const a = parseCidr(inner);
    const b = parseCidr(outer);
    if (!a || !b || a.bits !== b.bits || a.length < b.length) return false;
    const shift = BigInt(b.bits - b.length);
    return a.base >> shift === b.base >> shift;
}

/** The name of the non-public range that holds all of `cidr` ("private (RFC 1918)"), if one does. */
export function nonPublicRange(cidr: string): string | undefined {
    return NON_PUBLIC_RANGES.find((r) => within(cidr, r.cidr))?.name;
}
