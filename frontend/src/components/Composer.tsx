import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';

export interface ComposerProps {
  /** For the default placeholder, "Message #<channel>". */
  channelName?: string;
  /** Overrides the default placeholder (a conversation's: "Message @bob"). */
  placeholder?: string;
  /** Returns whether the text was accepted (then the box is cleared). */
  onSend: (content: string) => boolean;
  onTyping: () => void;
}

/** Enter sends, Shift+Enter starts a new line. */
export function Composer({ channelName = '', placeholder, onSend, onTyping }: ComposerProps) {
  const id = useId();
  const helpId = useId();
  const [text, setText] = useState('');
  const command = text.trimStart().startsWith('/');

  const submit = () => {
    if (onSend(text)) setText('');
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor={id} className="visually-hidden">
        Message
      </label>
      <p id={helpId} className={command ? 'composer-hint' : 'visually-hidden'}>
        <code>/pm username message</code> sends a private message. Enter sends, Shift+Enter starts a new line.
      </p>
      <textarea
        id={id}
        rows={1}
        value={text}
        aria-describedby={helpId}
        placeholder={placeholder ?? `Message #${channelName}`}
        onKeyDown={onKeyDown}
        onChange={(event) => {
          setText(event.target.value);
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
