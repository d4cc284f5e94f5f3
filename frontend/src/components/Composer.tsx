import { useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent, type SyntheticEvent } from 'react';
import type { UserRef } from '../api/types';
import { insertMention, matchPeople, mentionQueryAt } from '../chat/mentions';
import { Avatar } from './Avatar';

export interface ComposerProps {
  /** For the default placeholder, "Message #<channel>". */
  channelName?: string;
  /** Overrides the default placeholder (a conversation's: "Message @bob"). */
  placeholder?: string;
  /** Returns whether the text was accepted (then the box is cleared). */
  onSend: (content: string) => boolean;
  onTyping: () => void;
  /** Who `@` completes to (a server's members, a conversation's participants); none: no completion. */
  people?: UserRef[];
}

/**
 * Enter sends, Shift+Enter starts a new line. `@` and letters list the people who match (arrow
 * keys, Enter or Tab picks one, Escape closes the list); picking writes their `<@id>` token.
 */
export function Composer({ channelName = '', placeholder, onSend, onTyping, people }: ComposerProps) {
  const id = useId();
  const helpId = useId();
  const listId = useId();
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  /** Where the `@` was of a list closed with Escape: it stays closed for that one. */
  const [dismissed, setDismissed] = useState<number | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  /** Where the caret goes after a mention was inserted. */
  const placeCaret = useRef<number | null>(null);
  const command = text.trimStart().startsWith('/');

  const query = people && people.length > 0 ? mentionQueryAt(text, caret) : null;
  const matches = query && query.start !== dismissed && people ? matchPeople(people, query.query) : [];
  const open = matches.length > 0;
  const activeIndex = Math.min(active, matches.length - 1);
  const optionId = (person: UserRef) => `${listId}-${person.id}`;

  useLayoutEffect(() => {
    const at = placeCaret.current;
    if (at === null || !box.current) return;
    placeCaret.current = null;
    box.current.setSelectionRange(at, at);
  }, [text]);

  const submit = () => {
    if (onSend(text)) {
      setText('');
      setCaret(0);
      setDismissed(null);
    }
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };
  const pick = (person: UserRef) => {
    if (!query) return;
    const next = insertMention(text, query, caret, person.id);
    placeCaret.current = next.caret;
    setText(next.text);
    setCaret(next.caret);
    setActive(0);
    box.current?.focus();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (open && !event.nativeEvent.isComposing) {
      const pickKey = (event.key === 'Enter' && !event.shiftKey) || (event.key === 'Tab' && !event.shiftKey);
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setActive((activeIndex + step + matches.length) % matches.length);
        return;
      }
      if (pickKey) {
        event.preventDefault();
        const person = matches[activeIndex];
        if (person) pick(person);
        return;
      }
      if (event.key === 'Escape' && query) {
        // Only the list closes, not a drawer around the chat.
        event.preventDefault();
        event.stopPropagation();
        setDismissed(query.start);
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };
  const onSelect = (event: SyntheticEvent<HTMLTextAreaElement>) => setCaret(event.currentTarget.selectionStart);

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor={id} className="visually-hidden">
        Message
      </label>
      <p id={helpId} className={command ? 'composer-hint' : 'visually-hidden'}>
        <code>/pm username message</code> sends a private message. Enter sends, Shift+Enter starts a new line.
        {people && people.length > 0 && ' Type @ and a name to mention someone.'}
      </p>
      {open && (
        <ul id={listId} role="listbox" aria-label="People to mention" className="mention-list">
          {matches.map((person, index) => (
            <li
              key={person.id}
              id={optionId(person)}
              role="option"
              aria-selected={index === activeIndex}
              className={`mention-option${index === activeIndex ? ' active' : ''}`}
              // Keep focus (and the caret) in the text box.
              onMouseDown={(event) => event.preventDefault()}
              onClick={() => pick(person)}
            >
              <Avatar id={person.id} name={person.username} size={20} />
              <span>{person.username}</span>
            </li>
          ))}
        </ul>
      )}
      <textarea
        ref={box}
        id={id}
        rows={1}
        value={text}
        aria-describedby={helpId}
        aria-autocomplete={people ? 'list' : undefined}
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open && matches[activeIndex] ? optionId(matches[activeIndex]) : undefined}
        placeholder={placeholder ?? `Message #${channelName}`}
        onKeyDown={onKeyDown}
        onSelect={onSelect}
        onChange={(event) => {
          setText(event.target.value);
          setCaret(event.target.selectionStart);
          setActive(0);
          if (dismissed !== null && !mentionQueryAt(event.target.value, event.target.selectionStart)) setDismissed(null);
          // A command (a /pm above all) is not something to tell the chat about.
          const value = event.target.value.trim();
          if (value && !value.startsWith('/')) onTyping();
        }}
      />
      <button type="submit" className="button" disabled={!text.trim()}>
        Send
      </button>
    </form>
  );
}
