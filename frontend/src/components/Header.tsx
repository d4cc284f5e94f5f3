import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMe } from '../api/queries';
import { useLogout } from '../auth/session';
import { Avatar } from './Avatar';
import { DeleteAccountDialog } from './DeleteAccountDialog';
import { CloseIcon, MenuIcon, TrashIcon } from './Icons';
import { useShell } from './Shell';

/**
 * One row at every width: the drawer button (phones), the brand, who is signed in, deleting
 * the account (its label hidden on phones), log out.
 */
export function Header() {
  const me = useMe();
  const logout = useLogout();
  const navigate = useNavigate();
  const { hasNav, navOpen, toggleNav, navToggle } = useShell();
  const user = me.data;
  /** Whose account the dialog is open for: it does not outlive the session it was opened in. */
  const [deleting, setDeleting] = useState<number | null>(null);

  return (
    <header className="app-header">
      {hasNav && (
        <button
          ref={navToggle}
          type="button"
          className="icon-button nav-toggle"
          aria-label="Navigation"
          title="Navigation"
          aria-expanded={navOpen}
          onClick={toggleNav}
        >
          {navOpen ? <CloseIcon /> : <MenuIcon />}
        </button>
      )}
      <Link to="/" className="brand">
        <svg aria-hidden="true" viewBox="0 0 32 32" width="24" height="24" focusable="false">
          <path
            d="M16 5c3 5 8 7 8 14a8 8 0 0 1-16 0c0-4 2-6 4-8 0 3 1 5 3 5-1-4 0-8 1-11z"
            fill="currentColor"
          />
        </svg>
        Hearth
      </Link>
      <div className="header-actions">
        {user ? (
          <>
            <span className="header-user" title="Signed in">
              <Avatar id={user.user_id} name={user.username} size={28} />
              <span className="header-username">{user.username}</span>
            </span>
            <button
              type="button"
              className="button secondary tool-button"
              aria-label="Delete account"
              title="Delete account"
              onClick={() => setDeleting(user.user_id)}
            >
              <TrashIcon />
              <span className="tool-label">Delete account</span>
            </button>
            <button
              type="button"
              className="button secondary"
              disabled={logout.isPending}
              onClick={() =>
                logout.mutate(undefined, { onSettled: () => navigate('/', { replace: true }) })
              }
            >
              Log out
            </button>
          </>
        ) : me.isPending ? null : (
          <Link to="/login" className="button">
            Log in
          </Link>
        )}
      </div>
      {user && deleting === user.user_id && <DeleteAccountDialog onClose={() => setDeleting(null)} />}
    </header>
  );
}
