import { errorMessage } from '../api/errors';
import { useJoinServer, useLeaveServer } from '../api/queries';

export interface JoinLeaveButtonProps {
  serverId: number;
  isOwner: boolean;
  /** Undefined while unknown. */
  isMember: boolean | undefined;
}

/** Join or leave a server; owners cannot leave, so they get no button. */
export function JoinLeaveButton({ serverId, isOwner, isMember }: JoinLeaveButtonProps) {
  const join = useJoinServer(serverId);
  const leave = useLeaveServer(serverId);
  const failed = join.error ?? leave.error;
  const busy = join.isPending || leave.isPending;

  if (isOwner) return <p className="owner-badge">You own this server</p>;
  if (isMember === undefined) return null;

  return (
    <div className="join-leave">
      {isMember ? (
        <button
          type="button"
          className="button secondary"
          disabled={busy}
          aria-busy={busy}
          onClick={() => {
            join.reset();
            leave.mutate();
          }}
        >
          Leave server
        </button>
      ) : (
        <button
          type="button"
          className="button"
          disabled={busy}
          aria-busy={busy}
          onClick={() => {
            leave.reset();
            join.mutate();
          }}
        >
          Join server
        </button>
      )}
      {failed && (
        <p className="field-error" role="alert">
          {errorMessage(failed)}
        </p>
      )}
    </div>
  );
}
