import { useEffect, useId, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { errorMessage } from '../api/errors';
import { useMyServers } from '../api/queries';
import { ServerIcon } from './ServerCard';

/**
 * The servers the viewer belongs to, behind a disclosure button in the header: one click
 * away from every page, and out of the way (and of the accessibility tree) when closed.
 */
export function YourServersMenu() {
  const [open, setOpen] = useState(false);
  const mine = useMyServers(open);
  const { pathname } = useLocation();
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => setOpen(false), [pathname]);

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  return (
    <div
      className="menu"
      ref={root}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && open) {
          setOpen(false);
          button.current?.focus();
        }
      }}
    >
      <button
        ref={button}
        type="button"
        className="button secondary"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen((value) => !value)}
      >
        Your servers
      </button>
      {open && (
        <nav id={id} aria-label="Your servers" className="menu-popover">
          {mine.isPending && <p className="muted">Loading…</p>}
          {mine.isError && (
            <p className="field-error" role="alert">
              {errorMessage(mine.error)}
            </p>
          )}
          {mine.data?.length === 0 && <p className="muted">You have not joined a server yet.</p>}
          {mine.data && mine.data.length > 0 && (
            <ul>
              {mine.data.map((server) => (
                <li key={server.id}>
                  <Link to={`/servers/${server.id}`}>
                    <ServerIcon server={server} size={24} />
                    {server.name}
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </nav>
      )}
    </div>
  );
}
