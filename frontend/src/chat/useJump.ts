// Jumping to a message of the open chat (a reply's original, a pin, a search result): loads
// older pages until it is held (chat/replies.ts loadUntil), scrolls it into the middle of the
// log, focuses it and highlights it for a moment; or says why it cannot.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { keys } from '../api/queries';
import { errorMessage } from '../api/errors';
import { findMessage, type MessagesState } from './messages';
import { messageElementId } from './messageTools';
import { loadUntil } from './replies';
import type { ChatHistory } from './useHistory';

export const HIGHLIGHT_MS = 2_500;
/** How many frames a message just loaded may take to be on screen. */
const SHOWN_FRAMES = 60;

/** Calls `then` with the message's element once the page that holds it is rendered. */
function whenShown(id: number, then: (element: HTMLElement) => void, frames = SHOWN_FRAMES) {
  const element = document.getElementById(messageElementId(id));
  if (element) then(element);
  else if (frames > 0) requestAnimationFrame(() => whenShown(id, then, frames - 1));
}

export function useJump(channelId: number, { older }: ChatHistory) {
  const queryClient = useQueryClient();
  const [highlighted, setHighlighted] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current !== null) clearTimeout(timer.current);
  }, []);

  const { mutateAsync: loadOlder } = older;
  const jumpTo = useCallback(
    async (id: number) => {
      setNotice(null);
      const state = () => queryClient.getQueryData<MessagesState>(keys.messages(channelId));
      if (state()?.deleted.includes(id)) {
        setNotice('That message was deleted.');
        return;
      }
      let outcome;
      try {
        outcome = await loadUntil(
          () => findMessage(state(), id) !== undefined,
          () => state()?.hasOlder ?? false,
          () => loadOlder(),
        );
      } catch (error) {
        setNotice(`Could not load older messages: ${errorMessage(error)}`);
        return;
      }
      if (outcome !== 'found') {
        setNotice(
          outcome === 'missing'
            ? 'That message is not in this chat any more.'
            : 'That message is further back than the loaded history: scroll up to find it.',
        );
        return;
      }
      setHighlighted(id);
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = setTimeout(() => setHighlighted(null), HIGHLIGHT_MS);
      whenShown(id, (element) => {
        element.scrollIntoView?.({ block: 'center' });
        element.focus({ preventScroll: true });
      });
    },
    [queryClient, channelId, loadOlder],
  );

  const dismissNotice = useCallback(() => setNotice(null), []);
  return { jumpTo, highlighted, notice, dismissNotice };
}
