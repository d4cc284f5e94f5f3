import type { UserRef } from '../api/types';
import { splitMentions } from '../chat/mentions';

/**
 * A message's text with its mentions (`<@id>`) as "@name" chips; mine stand out. Built from
 * React nodes: the content is someone's text, never markup.
 */
export function MessageContent({ content, mentions, meId }: { content: string; mentions?: UserRef[]; meId?: number }) {
  return (
    <p className="message-content">
      {splitMentions(content, mentions).map((part, index) =>
        part.kind === 'text' ? (
          part.text
        ) : (
          <span
            // The same person may be named twice: the position keeps the keys apart.
            key={`${index}-${part.user.id}`}
            className={`mention${part.user.id === meId ? ' mention-me' : ''}`}
            data-user-id={part.user.id}
            title={part.user.username}
          >
            @{part.user.username}
          </span>
        ),
      )}
    </p>
  );
}
