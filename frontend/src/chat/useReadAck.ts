// Acks a chat as read up to its newest message once that message is on screen
// (MessageList's `onSeen`): at most one request a second per chat, for the highest seq seen,
// never for one at or below what I had read. The counts clear at once (keys.unread); the
// server tells my other clients (`read.updated`).
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef } from 'react';
import { useApi } from '../api/context';
import { unwrap } from '../api/errors';
import { Acker } from './acks';
import { markRead, readSeqOf, refreshUnread } from './useUnread';

export type AckTarget = { kind: 'channel'; channelId: number } | { kind: 'conversation'; conversationId: number };

/** Returns `onSeen(seq)`; `enabled` false (not a member, say) acks nothing. */
export function useReadAck(target: AckTarget, enabled = true): (seq: number) => void {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const acker = useRef<Acker | null>(null);
  const kind = target.kind;
  const id = target.kind === 'channel' ? target.channelId : target.conversationId;

  useEffect(() => {
    if (!enabled) return;
    const send = async (seq: number) => {
      // Shown as read at once; the server's answer says where it stands.
      if (!markRead(queryClient, id, seq)) void refreshUnread(queryClient);
      const body = { seq };
      const state =
        kind === 'channel'
          ? await unwrap(client.POST('/api/channels/{channel_id}/ack/', { params: { path: { channel_id: id } }, body }))
          : await unwrap(
              client.POST('/api/dms/{conversation_id}/ack/', { params: { path: { conversation_id: id } }, body }),
            );
      return state.read_seq;
    };
    const created = new Acker({ send, readSeq: readSeqOf(queryClient, id) });
    acker.current = created;
    return () => {
      created.dispose();
      if (acker.current === created) acker.current = null;
    };
  }, [client, queryClient, kind, id, enabled]);

  return useCallback(
    (seq: number) => {
      const current = acker.current;
      if (!current) return;
      // Read further on another client (or the counts arrived since): nothing to send up to there.
      current.known(readSeqOf(queryClient, id));
      current.seen(seq);
    },
    [queryClient, id],
  );
}
