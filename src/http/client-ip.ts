import { BlockList, isIP } from 'node:net';

/** Returns the client address of a request from its socket address and `X-Forwarded-For` header. */
export type ClientIpResolver = (
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
) => string | undefined;

/**
 * Builds the client-address rule from `trustProxy`:
 * - `false`: the socket address; `X-Forwarded-For` is ignored (anyone can send it);
 * - `true`: the left-most `X-Forwarded-For` address (every hop is trusted);
 * - a number `n`: the address `n` hops before the socket (`1` = behind one proxy);
 * - addresses and CIDRs (`['10.0.0.0/8', '127.0.0.1']`, also `loopback`, `private`): walk back from the
 *   socket through the header, skipping trusted proxies; the first untrusted address is the client.
 */
export function createClientIpResolver(trustProxy: boolean | number | readonly string[]): ClientIpResolver {
  if (trustProxy === false || trustProxy === 0) return (socket) => normaliseIp(socket);
  if (trustProxy === true) {
    return (socket, header) => {
      const chain = forwardedChain(header);
      return chain[0] ?? normaliseIp(socket);
    };
  }
  if (typeof trustProxy === 'number') {
    return (socket, header) => {
      const hops = [normaliseIp(socket), ...forwardedChain(header).reverse()];
      return hops[Math.min(trustProxy, hops.length - 1)];
    };
  }
  const trusted = new BlockList();
  for (const entry of trustProxy) addTrusted(trusted, entry);
  const isTrusted = (ip: string) => trusted.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
  return (socket, header) => {
    const remote = normaliseIp(socket);
    if (!remote || !isTrusted(remote)) return remote;
    const chain = forwardedChain(header);
    let client = remote;
    for (let i = chain.length - 1; i >= 0; i--) {
      client = chain[i] as string;
      if (!isTrusted(client)) return client;
    }
    return client;
  };
}

const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function addTrusted(list: BlockList, entry: string): void {
  const named = NAMED[entry.toLowerCase()];
  if (named) {
    for (const cidr of named) addTrusted(list, cidr);
    return;
  }
  const [address = '', bits] = entry.split('/');
  const family = isIP(address);
  if (family === 0)
    throw new TypeError(`trustProxy: "${entry}" is not an IP address, a CIDR or a known name`);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (bits === undefined) list.addAddress(address, type);
  else list.addSubnet(address, Number(bits), type);
}

/** The `X-Forwarded-For` addresses, client first; stops at the first entry that is not an address. */
function forwardedChain(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const raw = Array.isArray(header) ? header.join(',') : header;
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const ip = normaliseIp(part.trim());
    if (!ip) return [];
    out.push(ip);
  }
  return out;
}

/** `::ffff:1.2.3.4` becomes `1.2.3.4`; anything that is not an address becomes undefined. */
export function normaliseIp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ip = value.startsWith('::ffff:') && isIP(value.slice(7)) === 4 ? value.slice(7) : value;
  return isIP(ip) === 0 ? undefined : ip;
}
