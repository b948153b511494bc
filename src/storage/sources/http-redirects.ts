/**
 * Follows HTTP redirects by hand, because fetch's own following strips only Authorization and
 * Cookie on a change of origin: the `<hostname>-headers` a user set for host A (an API key) would
 * reach whatever host A redirects to. Here the headers meant for the original origin go only to
 * that origin; a hop to another origin carries the headers configured for its own hostname (if
 * any) plus the transfer headers (Range, If-Range, Accept-Encoding), which are not credentials.
 */
import { StorageError } from '../errors.js';

/** Redirects followed before giving up (fetch's own limit, from the Fetch standard). */
export const MAX_REDIRECTS = 20;

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

export interface RedirectPlan {
  /** Headers for the URL the download started from (credentials included). */
  originHeaders: Record<string, string>;
  /** Headers that every hop carries (range, encoding). */
  transferHeaders: Record<string, string>;
  /** The user-configured headers for another hostname, if any. */
  headersFor(url: URL): Record<string, string>;
}

export async function fetchFollowingRedirects(start: URL, plan: RedirectPlan, signal: AbortSignal, where: string): Promise<Response> {
  let url = start;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const own = url.origin === start.origin ? plan.originHeaders : plan.headersFor(url);
    const res = await fetch(url, { headers: { ...own, ...plan.transferHeaders }, redirect: 'manual', signal });
    const location = res.headers.get('location');
    if (!REDIRECT_STATUS.has(res.status) || location === null) return res;
    await res.body?.cancel();
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new StorageError('FAILED', `${where} redirected to a ${next.protocol} URL, which the storage initializer does not follow`);
    }
    url = next;
  }
  throw new StorageError('FAILED', `${where}: too many redirects (more than ${MAX_REDIRECTS}); the server redirects in a loop`);
}
