// The app's frame: rail | sidebar | content | member list. On a phone the rail and the sidebar
// form one drawer (opened from the header) and the member list another (opened from the chat's
// header); on a tablet only the member list is a drawer. Layout owns the state; pages put
// their sidebar and member list in place with <SidePanel> and <MembersPanel>.
import { createContext, useContext, useEffect, type ReactNode, type RefObject } from 'react';
import { PeopleIcon } from './Icons';

export interface Shell {
  navOpen: boolean;
  membersOpen: boolean;
  /** Whether there is anything to put in the navigation drawer (the rail, a sidebar). */
  hasNav: boolean;
  toggleNav: () => void;
  toggleMembers: () => void;
  registerSidebar: () => () => void;
  navToggle: RefObject<HTMLButtonElement | null>;
  membersToggle: RefObject<HTMLButtonElement | null>;
}

const noop = () => undefined;
const detached: Shell = {
  navOpen: false,
  membersOpen: false,
  hasNav: false,
  toggleNav: noop,
  toggleMembers: noop,
  registerSidebar: () => noop,
  navToggle: { current: null },
  membersToggle: { current: null },
};

export const ShellContext = createContext<Shell>(detached);

export function useShell(): Shell {
  return useContext(ShellContext);
}

/** A page's left column (channels, conversations, categories): in the drawer on a phone. */
export function SidePanel({ children }: { children: ReactNode }) {
  const { registerSidebar } = useShell();
  useEffect(() => registerSidebar(), [registerSidebar]);
  return (
    <div className="sidebar" id="sidebar">
      {children}
    </div>
  );
}

/** The right column of a chat: a drawer below 1100 px. */
export function MembersPanel({ label = 'Members', children }: { label?: string; children: ReactNode }) {
  return (
    <aside className="members-panel" id="members-panel" aria-label={label} tabIndex={-1}>
      {children}
    </aside>
  );
}

/** Opens and closes the member drawer (hidden where the member list always shows). */
export function MembersToggle() {
  const { membersOpen, toggleMembers, membersToggle } = useShell();
  return (
    <button
      ref={membersToggle}
      type="button"
      className="icon-button members-toggle"
      aria-label="Members"
      title="Members"
      aria-expanded={membersOpen}
      aria-controls="members-panel"
      onClick={toggleMembers}
    >
      <PeopleIcon />
    </button>
  );
}
