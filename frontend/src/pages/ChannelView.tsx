import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useId } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { errorMessage } from '../api/errors';
import { keys, useMembers } from '../api/queries';
import type { UserRef } from '../api/types';
import { awayFromChannel, awayFromServer } from '../chat/serverEvents';
import { useChannelSource } from '../chat/sources';
import { useChannelChat } from '../chat/useChannelChat';
import { useHistory } from '../chat/useHistory';
import { useReadAck } from '../chat/useReadAck';
import { ChatPane } from '../components/ChatPane';
import { Composer } from '../components/Composer';
import { JoinLeaveButton } from '../components/JoinLeaveButton';
import { MemberList } from '../components/MemberList';
import { MembersPanel } from '../components/Shell';
import { routeId, useServerContext } from './ServerPage';

export function ChannelView() {
  const channelId = routeId(useParams().channelId);
  const { server } = useServerContext();
  const channel = server.channel_server.find((c) => c.id === channelId);
  if (channelId === null || !channel) {
    return (
      <section className="chat empty">
        <h2>Channel not found</h2>
        <p>
          This channel is not part of {server.name}. <Link to={`/servers/${server.id}`}>Open the server</Link>.
        </p>
      </section>
    );
  }
  // Keyed so that switching channels starts from a clean socket and scroll state.
  return <Channel key={channel.id} channelId={channel.id} name={channel.name} topic={channel.topic} />;
}

function Channel({ channelId, name, topic }: { channelId: number; name: string; topic: string }) {
  const { server, me, isMember, isOwner, notice } = useServerContext();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const titleId = useId();
  const source = useChannelSource(server.id, channelId);
  const history = useHistory(source);

  const onGone = useCallback(
    (what: 'channel' | 'server') => {
      if (what === 'channel') void queryClient.invalidateQueries({ queryKey: keys.server(server.id) });
      // The same place and words as the personal socket's, which may hear it too.
      const away = what === 'server' ? awayFromServer(server.name) : awayFromChannel(server.id, name);
      navigate(away.to, { replace: true, state: { notice: away.notice } });
    },
    [navigate, queryClient, server.id, server.name, name],
  );

  const chat = useChannelChat({
    serverId: server.id,
    channelId,
    me,
    enabled: history.history.isSuccess,
    onGone,
  });
  // Only members have a read state here (anyone may read a server).
  const onSeen = useReadAck({ kind: 'channel', channelId }, isMember === true);
  const members = useMembers(server.id);
  const people = members.data?.pages.flat().map((m): UserRef => ({ id: m.user_id, username: m.username }));

  return (
    <div className="chat-layout">
      <ChatPane
        heading={
          <>
            <span className="channel-hash">#</span> {name}
          </>
        }
        headingLevel={2}
        titleId={titleId}
        topic={topic}
        notice={
          notice && (
            <p className="notice chat-notice" role="status">
              {notice}
            </p>
          )
        }
        chat={chat}
        history={history}
        source={source}
        server={{ id: server.id, name: server.name, owner: server.owner }}
        me={me}
        goneText="Channel unavailable"
        canPost={isMember === true}
        onSeen={onSeen}
        composer={
          isMember === false ? (
            <div className="composer-locked">
              <p>Join this server to send messages</p>
              <JoinLeaveButton serverId={server.id} isOwner={isOwner} isMember={isMember} />
            </div>
          ) : isMember ? (
            <Composer
              channelName={name}
              onSend={chat.send}
              onTyping={chat.notifyTyping}
              people={people?.filter((p) => p.id !== me.user_id)}
            />
          ) : null
        }
      />
      <MembersPanel>
        <ServerMembers
          serverId={server.id}
          ownerId={server.owner}
          meId={me.user_id}
          online={chat.online}
          onlineCount={chat.onlineCount}
        />
      </MembersPanel>
    </div>
  );
}

function ServerMembers({
  serverId,
  ownerId,
  meId,
  online,
  onlineCount,
}: {
  serverId: number;
  ownerId: number;
  meId: number;
  online: UserRef[];
  onlineCount: number;
}) {
  const members = useMembers(serverId);
  const everyone = members.data?.pages.flat().map((m): UserRef => ({ id: m.user_id, username: m.username }));
  return (
    <MemberList
      meId={meId}
      online={online}
      onlineCount={onlineCount}
      everyone={everyone}
      ownerId={ownerId}
      footer={
        <>
          {members.isError && (
            <p className="field-error" role="alert">
              Could not load the members: {errorMessage(members.error)}
            </p>
          )}
          {members.hasNextPage && (
            <button
              type="button"
              className="button secondary more-members"
              disabled={members.isFetchingNextPage}
              onClick={() => void members.fetchNextPage()}
            >
              {members.isFetchingNextPage ? 'Loading…' : 'Show more members'}
            </button>
          )}
        </>
      }
    />
  );
}
