import { useEffect, useRef, useState } from 'react';
import { Link, NavLink, useLocation, useParams } from 'react-router';
import { useCategories, useServers } from '../api/queries';
import { ServerCard } from '../components/ServerCard';
import { SidePanel } from '../components/Shell';
import { ErrorNotice, Loading } from '../components/Status';

export function ExplorePage() {
  const { category = null } = useParams();
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice;
  const categories = useCategories();
  // The scrolling element: the sentinel under the grid is watched within it.
  const [content, setContent] = useState<HTMLElement | null>(null);

  return (
    <div className="workspace explore">
      <SidePanel>
        <nav aria-label="Categories" className="side-nav">
          <h2 className="side-title">Categories</h2>
          {categories.isPending && <Loading label="Loading categories…" />}
          {categories.isError && <ErrorNotice error={categories.error} onRetry={() => void categories.refetch()} />}
          <ul>
            {categories.data?.map((c) => (
              <li key={c.id}>
                <NavLink to={`/explore/${encodeURIComponent(c.name)}`} title={c.description || undefined}>
                  {c.icon ? (
                    <img src={c.icon} alt="" width={20} height={20} />
                  ) : (
                    <span className="category-dot" aria-hidden="true" />
                  )}
                  {c.name}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </SidePanel>
      <section className="content page" aria-labelledby="explore-title" ref={setContent}>
        <h1 id="explore-title">{category ? `Explore: ${category}` : 'Explore'}</h1>
        {category && (
          <p>
            <Link to="/">All categories</Link>
          </p>
        )}
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <Catalogue key={category ?? ''} category={category} scroller={content} />
      </section>
    </div>
  );
}

/** Where the sentinel is this close to the scroller's bottom edge, the next page is fetched. */
const AHEAD = '0px 0px 400px 0px';

/**
 * The servers of a category (or all), a page at a time: the next page loads when the end of the
 * grid comes near the view, or on "Load more servers" (the only way where there is no
 * IntersectionObserver, as in jsdom).
 */
function Catalogue({ category, scroller }: { category: string | null; scroller: HTMLElement | null }) {
  const servers = useServers(category);
  const shown = servers.data?.pages.flat();
  const count = shown?.length ?? 0;
  const grid = useRef<HTMLUListElement>(null);
  const more = useRef<HTMLButtonElement>(null);
  const [sentinel, setSentinel] = useState<HTMLDivElement | null>(null);
  const near = useNear(scroller, sentinel);

  // While the end stays near (a tall window), pages keep coming; after an error, only on request.
  // (A quick fetch may begin and end between two renders: what it brought is the signal.)
  const { hasNextPage, isFetching, isError, isFetchingNextPage, fetchNextPage } = servers;
  const { dataUpdatedAt, errorUpdatedAt } = servers;
  useEffect(() => {
    if (near && hasNextPage && !isFetching && !isError) void fetchNextPage();
  }, [near, hasNextPage, isFetching, isError, fetchNextPage, dataUpdatedAt]);

  // Who pressed "Load more servers" goes on from the first server it added: the button was
  // disabled meanwhile, and is gone after the last page. Still on it when that page failed.
  const focusFrom = useRef<number | null>(null);
  useEffect(() => {
    const from = focusFrom.current;
    if (from === null || isFetchingNextPage) return;
    focusFrom.current = null;
    const active = document.activeElement;
    if (active !== null && active !== document.body && active !== more.current) return;
    const added = grid.current?.children[from]?.querySelector<HTMLElement>('a');
    (added ?? more.current)?.focus();
  }, [isFetchingNextPage, dataUpdatedAt, errorUpdatedAt]);

  const loadMore = () => {
    focusFrom.current = count;
    void fetchNextPage();
  };

  return (
    <>
      {servers.isPending && <Loading label="Loading servers…" />}
      {servers.isError && !servers.isFetchNextPageError && (
        <ErrorNotice error={servers.error} onRetry={() => void servers.refetch()} />
      )}
      {shown && shown.length === 0 && <p>No servers here yet.</p>}
      {shown && shown.length > 0 && (
        <ul className="server-grid" ref={grid}>
          {shown.map((server) => (
            <li key={server.id}>
              <ServerCard server={server} />
            </li>
          ))}
        </ul>
      )}
      {hasNextPage && (
        <div className="catalogue-more">
          <div className="catalogue-sentinel" ref={setSentinel} aria-hidden="true" />
          {servers.isFetchNextPageError && <ErrorNotice error={servers.error} />}
          <button type="button" className="button secondary" ref={more} disabled={isFetching} onClick={loadMore}>
            {isFetching ? 'Loading…' : 'Load more servers'}
          </button>
        </div>
      )}
    </>
  );
}

/** Whether `target` is within `AHEAD` of `root`'s view; always false without IntersectionObserver. */
function useNear(root: HTMLElement | null, target: HTMLElement | null): boolean {
  const [near, setNear] = useState(false);
  useEffect(() => {
    if (!root || !target || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        const last = entries[entries.length - 1];
        if (last) setNear(last.isIntersecting);
      },
      { root, rootMargin: AHEAD },
    );
    observer.observe(target);
    return () => {
      observer.disconnect();
      setNear(false);
    };
  }, [root, target]);
  return near;
}
