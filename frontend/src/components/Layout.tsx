import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Outlet, useLocation } from 'react-router';
import { useMe } from '../api/queries';
import { PersonalProvider } from '../chat/PersonalProvider';
import { Header } from './Header';
import { Rail } from './Rail';
import { ShellContext, type Shell } from './Shell';

/** The part of a path that names a "page": switching channels or conversations is not a new page. */
export function pageKey(pathname: string): string {
  return pathname.replace(/^(\/servers\/\d+)(\/.*)?$/, '$1').replace(/^\/dms(\/.*)?$/, '/dms');
}

function isShown(element: HTMLElement): boolean {
  // jsdom has no layout: there, everything counts as shown.
  return typeof element.checkVisibility !== 'function' || element.checkVisibility({ visibilityProperty: true });
}

function focusFirst(selectors: string[]) {
  for (const selector of selectors) {
    const target = [...document.querySelectorAll<HTMLElement>(selector)].find(isShown);
    if (target) {
      target.focus({ preventScroll: true });
      return;
    }
  }
}

export function Layout() {
  const { pathname } = useLocation();
  const me = useMe().data;
  const main = useRef<HTMLElement>(null);
  const previous = useRef<string | null>(null);
  const [navOpen, setNavOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(false);
  const [sidebars, setSidebars] = useState(0);
  const navToggle = useRef<HTMLButtonElement | null>(null);
  const membersToggle = useRef<HTMLButtonElement | null>(null);

  // After navigating to another page, move focus to its heading so keyboard and screen
  // reader users start there (not on the link they left behind).
  useEffect(() => {
    const key = pageKey(pathname);
    const first = previous.current === null;
    const changed = previous.current !== key;
    previous.current = key;
    if (first || !changed) return;
    const frame = requestAnimationFrame(() => {
      const headings = [...(main.current?.querySelectorAll<HTMLElement>('h1') ?? [])];
      const target = headings.find(isShown) ?? main.current;
      if (!target) return;
      if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: true });
    });
    return () => cancelAnimationFrame(frame);
  }, [pathname]);

  // Choosing a place in a drawer closes it; reading starts in the content. (The ref is
  // synced by the effect before, so on a navigation it still says whether a drawer was open.)
  const drawerOpen = useRef(false);
  useEffect(() => {
    drawerOpen.current = navOpen || membersOpen;
  }, [navOpen, membersOpen]);
  useEffect(() => {
    if (!drawerOpen.current) return;
    setNavOpen(false);
    setMembersOpen(false);
    main.current?.focus({ preventScroll: true });
  }, [pathname]);

  useEffect(() => {
    if (!navOpen) return;
    const frame = requestAnimationFrame(() =>
      focusFirst(['.sidebar [aria-current="page"]', '.sidebar a, .sidebar button', '.rail a']),
    );
    return () => cancelAnimationFrame(frame);
  }, [navOpen]);

  useEffect(() => {
    if (!membersOpen) return;
    const frame = requestAnimationFrame(() => focusFirst(['.members-panel']));
    return () => cancelAnimationFrame(frame);
  }, [membersOpen]);

  const closeDrawers = useCallback(() => {
    const toggle = navOpen ? navToggle.current : membersOpen ? membersToggle.current : null;
    setNavOpen(false);
    setMembersOpen(false);
    toggle?.focus();
  }, [navOpen, membersOpen]);

  useEffect(() => {
    if (!navOpen && !membersOpen) return;
    const onKey = (event: KeyboardEvent) => {
      // A dialog handles its own Escape.
      if (event.key === 'Escape' && !event.defaultPrevented) closeDrawers();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [navOpen, membersOpen, closeDrawers]);

  const registerSidebar = useCallback(() => {
    setSidebars((n) => n + 1);
    return () => setSidebars((n) => n - 1);
  }, []);
  const toggleNav = useCallback(() => {
    setMembersOpen(false);
    setNavOpen((open) => !open);
  }, []);
  const toggleMembers = useCallback(() => {
    setNavOpen(false);
    setMembersOpen((open) => !open);
  }, []);

  const shell = useMemo<Shell>(
    () => ({
      navOpen,
      membersOpen,
      hasNav: Boolean(me) || sidebars > 0,
      toggleNav,
      toggleMembers,
      registerSidebar,
      navToggle,
      membersToggle,
    }),
    [navOpen, membersOpen, me, sidebars, toggleNav, toggleMembers, registerSidebar],
  );

  const classes = ['app', me ? 'has-rail' : '', navOpen ? 'nav-open' : '', membersOpen ? 'members-open' : '']
    .filter(Boolean)
    .join(' ');

  return (
    <ShellContext.Provider value={shell}>
      <PersonalProvider me={me}>
        <div className={classes}>
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          <Header />
          <div className="shell">
            {me && <Rail />}
            <main id="main" ref={main} tabIndex={-1}>
              <Outlet />
            </main>
          </div>
          {navOpen && <div className="drawer-backdrop for-nav" aria-hidden="true" onClick={closeDrawers} />}
          {membersOpen && <div className="drawer-backdrop for-members" aria-hidden="true" onClick={closeDrawers} />}
        </div>
      </PersonalProvider>
    </ShellContext.Provider>
  );
}
