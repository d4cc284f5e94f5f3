// A chat's history in the query cache: the newest page first, older pages on demand. The
// socket then keeps the same cache entry current (see useChat).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { keys } from '../api/queries';
import { emptyMessages, messagesReducer, type MessagesState } from './messages';
import type { ChatSource } from './sources';

export const HISTORY_PAGE = 50;

export function useHistory(source: ChatSource) {
  const queryClient = useQueryClient();
  const key = keys.messages(source.channelId);
  const history = useQuery({
    queryKey: key,
    queryFn: async (): Promise<MessagesState> => {
      const page = await source.fetchPage({ limit: HISTORY_PAGE });
      const current = queryClient.getQueryData<MessagesState>(key) ?? emptyMessages;
      return messagesReducer(current, { type: 'page', messages: page, limit: HISTORY_PAGE, older: false });
    },
    // The socket keeps it current; coming back to the chat re-reads the newest page.
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnMount: 'always',
    refetchOnReconnect: false,
  });
  const older = useMutation({
    mutationFn: async () => {
      const oldest = queryClient.getQueryData<MessagesState>(key)?.messages[0];
      if (!oldest) return;
      const page = await source.fetchPage({ before: oldest.id, limit: HISTORY_PAGE });
      queryClient.setQueryData<MessagesState>(key, (state) =>
        messagesReducer(state ?? emptyMessages, { type: 'page', messages: page, limit: HISTORY_PAGE, older: true }),
      );
    },
  });
  return { history, older };
}

export type ChatHistory = ReturnType<typeof useHistory>;
