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
  const servers = useServers(category);

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
      <section className="content page" aria-labelledby="explore-title">
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
        {servers.isPending && <Loading label="Loading servers…" />}
        {servers.isError && <ErrorNotice error={servers.error} onRetry={() => void servers.refetch()} />}
        {servers.data && servers.data.length === 0 && <p>No servers here yet.</p>}
        {servers.data && servers.data.length > 0 && (
          <ul className="server-grid">
            {servers.data.map((server) => (
              <li key={server.id}>
                <ServerCard server={server} />
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
