// The forward proxy the BPE uses for outgoing HTTP(S) (the reference's ProxyConfig, read from
// DEV_DSF_PROXY_URL, _USERNAME, _PASSWORD and _NOPROXY). Pure: the rules are plain data, so plugins
// and the BPE's own clients decide the same way.

export interface ProxyConfig {
  /** http(s)://host:port of the proxy; undefined when none is configured (or the URL was not usable). */
  readonly url: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Entries of DEV_DSF_PROXY_NOPROXY: host names, host:port, or `*` (never use the proxy). */
  readonly noProxyUrls: readonly string[];
  /**
   * Without argument: a proxy URL is configured and `*` is not a no-proxy entry. With a target URL:
   * also the target is no no-proxy URL (false for an undefined or blank target).
   */
  isEnabled(targetUrl?: string | null): boolean;
  /**
   * Whether host and port of the URL match a no-proxy entry: the host itself or its parent domain
   * (one label removed), each either alone or with the URL's port (the scheme's default port when the
   * URL names none). False for undefined, blank or unparseable values; a URL whose scheme is not
   * http, https, ws or wss is refused with a TypeError (the reference's IllegalArgumentException).
   */
  isNoProxyUrl(url: string | null | undefined): boolean;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'ws:': 80, 'https:': 443, 'wss:': 443 };

/** The reference's rules over plain settings; an unusable proxy URL counts as none. */
export function createProxyConfig(settings: { url?: string | null; username?: string | null; password?: string | null; noProxy?: readonly (string | null | undefined)[] | string | null }): ProxyConfig {
  const url = usableProxyUrl(settings.url ?? undefined);
  const noProxy = typeof settings.noProxy === 'string' ? settings.noProxy.trim().split(/[,\s]+/) : [...(settings.noProxy ?? [])];
  const noProxyUrls = Object.freeze(noProxy.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map((s) => s.trim()));
  const isNoProxyUrl = (target: string | null | undefined): boolean => {
    if (noProxyUrls.includes('*')) return true;
    if (!target || !target.trim()) return false;
    let parsed: URL;
    try {
      parsed = new URL(target);
    } catch {
      return false; // no scheme, so no host: like the reference's relative URIs
    }
    const defaultPort = DEFAULT_PORTS[parsed.protocol];
    if (defaultPort === undefined) throw new TypeError(`Schema ${parsed.protocol.replace(/:$/, '')} not supported`);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) return false;
    const parent = host.split('.').slice(1).join('.');
    const port = parsed.port ? Number(parsed.port) : defaultPort;
    return noProxyUrls.some((s) => s === host || s === `${host}:${port}` || (parent !== '' && (s === parent || s === `${parent}:${port}`)));
  };
  return Object.freeze({
    url,
    username: settings.username ?? undefined,
    password: settings.password ?? undefined,
    noProxyUrls,
    isEnabled(targetUrl?: string | null): boolean {
      const enabled = url !== undefined && !noProxyUrls.includes('*');
      if (arguments.length === 0) return enabled;
      if (!targetUrl || !targetUrl.trim()) return false;
      return enabled && !isNoProxyUrl(targetUrl);
    },
    isNoProxyUrl,
  });
}

function usableProxyUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? url : undefined;
  } catch {
    return undefined;
  }
}
