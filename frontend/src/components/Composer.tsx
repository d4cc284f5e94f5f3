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
  const [text, setText] = useState('');

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
      <textarea
        id={id}
        rows={1}
        value={text}
        placeholder={placeholder ?? `Message #${channelName}`}
        onKeyDown={onKeyDown}
        onChange={(event) => {
          setText(event.target.value);
          if (event.target.value.trim()) onTyping();
        }}
      />
      <button type="submit" className="button" disabled={!text.trim()}>
        Send
      </button>
    </form>
  );
}
