import { useEffect, useRef } from 'react';
import { Outlet, useLocation } from 'react-router';
import { Header } from './Header';

/** The part of a path that names a "page": switching channels inside a server is not a new page. */
function pageKey(pathname: string): string {
  return pathname.replace(/^(\/servers\/\d+)(\/.*)?$/, '$1');
}

export function Layout() {
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const previous = useRef<string | null>(null);

  // After navigating to another page, move focus to its heading so keyboard and screen
  // reader users start there (not on the link they left behind).
  useEffect(() => {
    const key = pageKey(pathname);
    const first = previous.current === null;
    const changed = previous.current !== key;
    previous.current = key;
    if (first || !changed) return;
    const frame = requestAnimationFrame(() => {
      const target = main.current?.querySelector<HTMLElement>('h1') ?? main.current;
      if (!target) return;
      if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: true });
    });
    return () => cancelAnimationFrame(frame);
  }, [pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
