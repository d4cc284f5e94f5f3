// What one can do with a message (Reply, React, Pin; Edit and Delete one's own). With a mouse:
// buttons appear on hover (and when focus is inside the message, for keyboards). On a phone:
// a "⋯" button, or a long press on the message, opens the same actions as a menu.
import { useEffect, useRef, type KeyboardEvent, type PointerEvent, type ReactNode, type RefObject } from 'react';
import { MoreIcon } from './Icons';

export const LONG_PRESS_MS = 500;
const MOVE_TOLERANCE_PX = 10;

/** Handlers for an element that opens something on a touch held still for `LONG_PRESS_MS`. */
export function useLongPress(onLongPress: () => void, enabled: boolean) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const origin = useRef<{ x: number; y: number } | null>(null);
  const fired = useRef(false);
  const cancel = () => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = null;
    origin.current = null;
  };
  useEffect(() => cancel, []);
  if (!enabled) return {};
  return {
    onPointerDown: (event: PointerEvent) => {
      if (event.pointerType !== 'touch') return;
      cancel();
      fired.current = false;
      origin.current = { x: event.clientX, y: event.clientY };
      timer.current = setTimeout(() => {
        timer.current = null;
        fired.current = true;
        onLongPress();
      }, LONG_PRESS_MS);
    },
    onPointerMove: (event: PointerEvent) => {
      const start = origin.current;
      if (start && Math.hypot(event.clientX - start.x, event.clientY - start.y) > MOVE_TOLERANCE_PX) cancel();
    },
    onPointerUp: cancel,
    onPointerCancel: cancel,
    // Phones open their own menu on a long press: ours replaces it.
    onContextMenu: (event: { preventDefault: () => void }) => {
      if (fired.current || timer.current !== null) event.preventDefault();
    },
  };
}

/** One thing to do with a message: a hover button (named `name`) and an item of the "⋯" menu. */
export interface MessageAction {
  label: string;
  /** The hover button's accessible name ("Edit message"). */
  name: string;
  icon: ReactNode;
  onSelect: () => void;
  danger?: boolean;
  /** For the first action's button: where focus goes back to. */
  buttonRef?: RefObject<HTMLButtonElement | null>;
}

export interface MessageActionsProps {
  menuOpen: boolean;
  setMenuOpen: (open: boolean) => void;
  actions: MessageAction[];
  moreButton: RefObject<HTMLButtonElement | null>;
}

export function MessageActions({ menuOpen, setMenuOpen, actions, moreButton }: MessageActionsProps) {
  return (
    <div className="message-actions">
      {actions.map((action) => (
        <button
          key={action.label}
          ref={action.buttonRef}
          type="button"
          className="icon-button hover-action"
          aria-label={action.name}
          title={action.label}
          onClick={action.onSelect}
        >
          {action.icon}
        </button>
      ))}
      <button
        ref={moreButton}
        type="button"
        className="icon-button more-action"
        aria-label="Message actions"
        aria-haspopup="menu"
        aria-expanded={menuOpen}
        onClick={() => setMenuOpen(!menuOpen)}
      >
        <MoreIcon />
      </button>
      {menuOpen && (
        <ActionMenu
          onClose={(returnFocus) => {
            setMenuOpen(false);
            if (returnFocus) moreButton.current?.focus();
          }}
          anchor={moreButton}
          items={actions}
        />
      )}
    </div>
  );
}

interface MenuItem {
  label: string;
  icon: ReactNode;
  onSelect: () => void;
  danger?: boolean;
}

function ActionMenu({
  items,
  onClose,
  anchor,
}: {
  items: MenuItem[];
  onClose: (returnFocus: boolean) => void;
  anchor: RefObject<HTMLElement | null>;
}) {
  const menu = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  });

  // Once, on opening: a new message re-rendering the list must not move focus back.
  useEffect(() => {
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const onPointer = (event: globalThis.PointerEvent) => {
      const target = event.target as Node;
      if (menu.current?.contains(target) || anchor.current?.contains(target)) return;
      close.current(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [anchor]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const options = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = options.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => options[(to + options.length) % options.length]?.focus();
    if (event.key === 'ArrowDown') move(at + 1);
    else if (event.key === 'ArrowUp') move(at - 1);
    else if (event.key === 'Home') move(0);
    else if (event.key === 'End') move(options.length - 1);
    else if (event.key === 'Escape') onClose(true);
    else if (event.key === 'Tab') onClose(false);
    else return;
    if (event.key !== 'Tab') event.preventDefault();
    event.stopPropagation();
  };

  return (
    <div ref={menu} className="message-menu" role="menu" aria-label="Message actions" onKeyDown={onKeyDown}>
      {items.map((item) => (
        <button
          key={item.label}
          type="button"
          role="menuitem"
          tabIndex={-1}
          className={item.danger ? 'danger' : undefined}
          onClick={() => {
            onClose(false);
            item.onSelect();
          }}
        >
          {item.icon}
          {item.label}
        </button>
      ))}
    </div>
  );
}
