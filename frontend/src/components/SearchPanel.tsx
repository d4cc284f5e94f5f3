// Message search (GET /api/search/messages/): in the current server by default, or in every
// chat of mine; newest first, "More" for older pages. A hit opens its chat (the route) and
// jumps to the message there (ChatPane reads `jumpTo` from the route's state).
import { useInfiniteQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../api/context';
import { ApiError, errorMessage, unwrap } from '../api/errors';
import { keys } from '../api/queries';
import type { ExcerptPart, SearchHit } from '../api/types';

export const SEARCH_PAGE = 20;

/** Where a hit's chat is in the app. */
export function hitRoute(hit: Pick<SearchHit, 'channel'>): string {
  const { channel } = hit;
  return channel.server_id == null ? `/dms/${channel.id}` : `/servers/${channel.server_id}/channels/${channel.id}`;
}

/** An excerpt as text, the parts that matched marked (never markup: the server's words are text). */
export function Excerpt({ parts }: { parts: readonly ExcerptPart[] }) {
  return (
    <span className="excerpt">
      {parts.map((part, index) => (part.hit ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>))}
    </span>
  );
}

export function searchError(error: unknown): string {
  if (error instanceof ApiError && error.code === 'invalid_query') {
    return `${error.message} Search for words (at most 8, or "a quoted phrase").`;
  }
  if (error instanceof ApiError && error.code === 'rate_limited') return 'Searching too fast: wait a moment and try again.';
  return errorMessage(error);
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function useSearch(q: string, serverId: number | null) {
  const { client } = useApi();
  return useInfiniteQuery({
    queryKey: keys.search(q, serverId),
    enabled: q !== '',
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        client.GET('/api/search/messages/', {
          params: {
            query: {
              q,
              limit: SEARCH_PAGE,
              ...(serverId === null ? {} : { server_id: serverId }),
              ...(pageParam === undefined ? {} : { before: pageParam }),
            },
          },
        }),
      ),
    getNextPageParam: (page) => page.next_before ?? undefined,
  });
}

/** `serverId`: the server of the open chat (searched by default), none in a conversation. */
export function SearchPanel({ id, serverId, serverName }: { id: string; serverId?: number; serverName?: string }) {
  const navigate = useNavigate();
  const inputId = useId();
  const [draft, setDraft] = useState('');
  const [everywhere, setEverywhere] = useState(serverId === undefined);
  const [q, setQ] = useState('');
  const scope = everywhere || serverId === undefined ? null : serverId;
  const search = useSearch(q, scope);
  const hits = search.data?.pages.flatMap((page) => page.results) ?? [];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQ(draft.trim());
  };
  const open = (hit: SearchHit) => navigate(hitRoute(hit), { state: { jumpTo: hit.message.id } });

  return (
    <section id={id} className="chat-panel search-panel" aria-label="Search messages">
      <form className="search-form" role="search" onSubmit={submit}>
        <label htmlFor={inputId} className="visually-hidden">
          Search messages
        </label>
        <input
          id={inputId}
          type="search"
          value={draft}
          placeholder={scope === null ? 'Search all your chats' : `Search ${serverName ?? 'this server'}`}
          autoFocus
          onChange={(event) => setDraft(event.target.value)}
        />
        {serverId !== undefined && (
          <label className="search-scope">
            <input type="checkbox" checked={everywhere} onChange={(event) => setEverywhere(event.target.checked)} />
            All my chats
          </label>
        )}
        <button type="submit" className="button" disabled={!draft.trim()}>
          Search
        </button>
      </form>
      {search.isError && (
        <p className="field-hint search-problem" role="alert">
          {searchError(search.error)}
        </p>
      )}
      {search.isLoading && <p className="muted">Searching…</p>}
      {search.isSuccess && hits.length === 0 && <p className="muted">No messages found.</p>}
      {hits.length > 0 && (
        <ul className="panel-list" aria-label="Search results">
          {hits.map((hit) => (
            <li key={hit.message.id}>
              <button type="button" className="panel-item" onClick={() => open(hit)}>
                <span className="panel-item-meta">
                  <span className="search-channel">{hit.channel.server_id == null ? hit.channel.name : `#${hit.channel.name}`}</span>
                  <span className="message-sender">{hit.message.sender}</span>
                  <time dateTime={hit.message.timestamp}>{when.format(new Date(hit.message.timestamp))}</time>
                </span>
                <span className="panel-item-text">
                  <Excerpt parts={hit.excerpt} />
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {search.hasNextPage && (
        <button
          type="button"
          className="button secondary"
          disabled={search.isFetchingNextPage}
          onClick={() => void search.fetchNextPage()}
        >
          {search.isFetchingNextPage ? 'Loading…' : 'More results'}
        </button>
      )}
    </section>
  );
}
