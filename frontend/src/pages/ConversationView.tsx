import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError, errorMessage } from '../api/errors';
import type { Conversation, CurrentUser } from '../api/types';
import { usePersonal } from '../chat/PersonalProvider';
import { useConversationSource } from '../chat/sources';
import { useConversationChat } from '../chat/useConversationChat';
import { useHistory } from '../chat/useHistory';
import { useReadAck } from '../chat/useReadAck';
import { ChatPane } from '../components/ChatPane';
import { Composer } from '../components/Composer';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ConversationAvatar } from '../components/DmList';
import { AddPeopleDialog } from '../components/GroupDialogs';
import { AddPersonIcon, BlockIcon, LeaveIcon } from '../components/Icons';
import { MemberList } from '../components/MemberList';
import { ConversationPresence } from '../components/Presence';
import { MembersPanel } from '../components/Shell';
import { ErrorNotice, Loading } from '../components/Status';
import { conversationTitle, otherParticipant } from '../dms/cache';
import { forgetConversation } from '../dms/live';
import { useBlock, useBlocks, useConversation, useLeaveGroup, useUnblock } from '../dms/queries';
import { useHomeContext } from './HomePage';
import { routeId } from './ServerPage';

export function ConversationView() {
  const id = routeId(useParams().conversationId);
  if (id === null) return <Missing />;
  // Keyed so that switching conversations starts from a clean socket and scroll state.
  return <ConversationScreen key={id} id={id} />;
}

function Missing() {
  return (
    <section className="page">
      <h1>Conversation not found</h1>
      <p>
        It does not exist, or you are not in it (any more). <Link to="/dms">Back to your conversations</Link>.
      </p>
    </section>
  );
}

function ConversationScreen({ id }: { id: number }) {
  const { me } = useHomeContext();
  const conversation = useConversation(id);
  if (conversation.isPending) return <Loading label="Loading conversation…" />;
  if (conversation.isError) {
    if (conversation.error instanceof ApiError && conversation.error.status === 404) return <Missing />;
    return (
      <section className="page">
        <h1>Could not load this conversation</h1>
        <ErrorNotice error={conversation.error} onRetry={() => void conversation.refetch()} />
      </section>
    );
  }
  return <ConversationChat conversation={conversation.data} me={me} />;
}

type Dialog = 'block' | 'leave' | 'add' | null;

function ConversationChat({ conversation, me }: { conversation: Conversation; me: CurrentUser }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const titleId = useId();
  const source = useConversationSource(conversation.id);
  const history = useHistory(source);
  const [dialog, setDialog] = useState<Dialog>(null);
  /** The header button that opened the dialog, to give focus back to (ConfirmDialog leaves it to us). */
  const opener = useRef<HTMLElement | null>(null);
  const open = (which: Dialog, button: HTMLElement) => {
    opener.current = button;
    setDialog(which);
  };
  const closeDialog = () => {
    setDialog(null);
    requestAnimationFrame(() => opener.current?.focus());
  };
  const leaving = useRef(false);
  const title = conversationTitle(conversation, me.user_id);
  const other = conversation.kind === 'dm' ? otherParticipant(conversation, me.user_id) : undefined;
  const blocks = useBlocks();
  const block = useBlock();
  const unblock = useUnblock();
  const leave = useLeaveGroup(conversation.id);
  const iBlocked = Boolean(other && blocks.data?.some((u) => u.id === other.id));

  /** Away to Home, then out of the cache (not before: this screen still reads it). */
  const goHome = useCallback(
    (notice: string) => {
      navigate('/dms', { replace: true, state: { notice } });
      setTimeout(() => forgetConversation(queryClient, conversation.id), 0);
    },
    [navigate, queryClient, conversation.id],
  );
  const onGone = useCallback(() => {
    if (!leaving.current) goHome(`${title} is no longer available.`);
  }, [goHome, title]);

  // The personal socket learnt that the conversation is gone for me (deleted, or I was removed).
  const gone = usePersonal().gone.has(conversation.id);
  useEffect(() => {
    if (gone) onGone();
  }, [gone, onGone]);

  const chat = useConversationChat({
    conversationId: conversation.id,
    me,
    enabled: history.history.isSuccess,
    onGone,
  });
  const onSeen = useReadAck({ kind: 'conversation', conversationId: conversation.id });

  const actions =
    conversation.kind === 'dm' ? (
      other &&
      blocks.isSuccess && (
        <button
          type="button"
          className="button secondary tool-button"
          aria-label={iBlocked ? `Unblock ${other.username}` : `Block ${other.username}`}
          disabled={unblock.isPending || block.isPending}
          onClick={(event) => {
            if (iBlocked) unblock.mutate(other);
            else {
              block.reset();
              open('block', event.currentTarget);
            }
          }}
        >
          <BlockIcon />
          <span className="tool-label">{iBlocked ? 'Unblock' : 'Block'}</span>
        </button>
      )
    ) : (
      <>
        <button type="button" className="button secondary tool-button" aria-label="Add people" onClick={(event) => open('add', event.currentTarget)}>
          <AddPersonIcon />
          <span className="tool-label">Add people</span>
        </button>
        <button
          type="button"
          className="button secondary tool-button"
          aria-label="Leave group"
          onClick={(event) => {
            leave.reset();
            open('leave', event.currentTarget);
          }}
        >
          <LeaveIcon />
          <span className="tool-label">Leave</span>
        </button>
      </>
    );

  const refused = chat.refusal?.code === 'blocked' ? chat.refusal.message : null;
  const composer = iBlocked ? (
    <div className="composer-locked">
      <p>You blocked {other?.username}. Unblock them to send messages.</p>
    </div>
  ) : (
    <>
      {refused && (
        <p className="notice notice-error composer-refusal" role="alert">
          {refused}
        </p>
      )}
      <Composer
        placeholder={conversation.kind === 'dm' ? `Message @${title}` : `Message ${title}`}
        onSend={chat.send}
        onTyping={chat.notifyTyping}
        people={conversation.participants.filter((p) => p.id !== me.user_id)}
      />
    </>
  );

  return (
    <div className="chat-layout">
      <ChatPane
        heading={
          <>
            <ConversationAvatar conversation={conversation} meId={me.user_id} size={28} />
            <span className="chat-title-text">{title}</span>
          </>
        }
        headingLevel={1}
        titleId={titleId}
        presence={<ConversationPresence conversation={conversation} meId={me.user_id} />}
        topic={conversation.kind === 'group' ? `${conversation.participants.length} people` : undefined}
        actions={actions}
        notice={
          unblock.error && (
            <p className="notice notice-error chat-notice" role="alert">
              {errorMessage(unblock.error)}
            </p>
          )
        }
        chat={chat}
        history={history}
        source={source}
        me={me}
        goneText="Conversation unavailable"
        canPost={!iBlocked}
        emptyText={
          conversation.kind === 'dm'
            ? `This is the beginning of your conversation with ${title}.`
            : `This is the beginning of ${title}.`
        }
        composer={composer}
        onSeen={onSeen}
      />
      <MembersPanel label="Participants">
        <MemberList meId={me.user_id} online={chat.online} everyone={conversation.participants} />
      </MembersPanel>
      {dialog === 'block' && other && (
        <ConfirmDialog
          title={`Block ${other.username}?`}
          body="They will not be able to start a conversation with you, and neither of you will be able to write in this one. They are not told."
          confirmLabel="Block"
          busy={block.isPending}
          error={block.error ? errorMessage(block.error) : null}
          onConfirm={() => block.mutate(other, { onSuccess: closeDialog })}
          onCancel={closeDialog}
        />
      )}
      {dialog === 'leave' && (
        <ConfirmDialog
          title={`Leave ${title}?`}
          body="You will no longer see its messages unless someone adds you again. When the last person leaves, the group and its messages are deleted."
          confirmLabel="Leave group"
          busy={leave.isPending}
          error={leave.error ? errorMessage(leave.error) : null}
          onConfirm={() => {
            leaving.current = true;
            leave.mutate(undefined, {
              onSuccess: () => goHome(`You left ${title}.`),
              onError: () => {
                leaving.current = false;
              },
            });
          }}
          onCancel={closeDialog}
        />
      )}
      {dialog === 'add' && <AddPeopleDialog conversation={conversation} meId={me.user_id} onClose={() => setDialog(null)} />}
    </div>
  );
}
