import { useId, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, errorMessage } from '../api/errors';
import type { Conversation, UserRef } from '../api/types';
import { conversationTitle } from '../dms/cache';
import { useKnownUsers } from '../dms/people';
import { GROUP_MAX_OTHERS, GROUP_MAX_PARTICIPANTS, GROUP_MIN_OTHERS, useAddParticipant, useCreateGroup } from '../dms/queries';
import { Avatar } from './Avatar';
import { TextField } from './Field';
import { Modal } from './Modal';
import { Loading } from './Status';

function matching(users: UserRef[], filter: string): UserRef[] {
  const needle = filter.trim().toLowerCase();
  return needle ? users.filter((u) => u.username.toLowerCase().includes(needle)) : users;
}

function FindPeople({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <input
      type="search"
      className="people-filter"
      aria-label="Find people"
      placeholder="Find people"
      value={value}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

/** A new group: a name and 2 to 9 people the viewer knows (from their servers and conversations). */
export function GroupDialog({ meId, onClose }: { meId: number; onClose: () => void }) {
  const navigate = useNavigate();
  const known = useKnownUsers(meId);
  const create = useCreateGroup();
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<number[]>([]);
  const [filter, setFilter] = useState('');
  const [tried, setTried] = useState(false);
  const countId = useId();

  const full = chosen.length >= GROUP_MAX_OTHERS;
  const peopleProblem =
    chosen.length < GROUP_MIN_OTHERS ? `Pick at least ${GROUP_MIN_OTHERS} people.` : null;
  const nameProblem = name.trim() ? null : 'Give the group a name.';
  const serverField = (field: string) => (create.error instanceof ApiError ? create.error.fieldError(field) : undefined);
  const toggle = (id: number) =>
    setChosen((ids) => (ids.includes(id) ? ids.filter((x) => x !== id) : ids.length >= GROUP_MAX_OTHERS ? ids : [...ids, id]));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (nameProblem || peopleProblem) return;
    create.mutate(
      { name: name.trim(), user_ids: chosen },
      {
        onSuccess: (conversation) => {
          onClose();
          navigate(`/dms/${conversation.id}`);
        },
      },
    );
  };

  const people = matching(known.users, filter);
  return (
    <Modal
      title="New group"
      description={`Name it and pick ${GROUP_MIN_OTHERS} to ${GROUP_MAX_OTHERS} people: anyone from your servers or your conversations.`}
      onClose={onClose}
      className="group-dialog"
    >
      <form onSubmit={onSubmit} noValidate>
        <TextField
          label="Group name"
          name="group-name"
          maxLength={100}
          value={name}
          error={(tried ? (nameProblem ?? undefined) : undefined) ?? serverField('name')}
          onChange={(e) => setName(e.target.value)}
        />
        <fieldset className="people-picker" aria-describedby={countId}>
          <legend>People</legend>
          <p id={countId} className="field-hint" aria-live="polite">
            {chosen.length} of {GROUP_MAX_OTHERS} picked{full ? ': the group is full' : ''}
          </p>
          <FindPeople value={filter} onChange={setFilter} />
          {known.isPending && known.users.length === 0 && <Loading label="Finding people you know…" />}
          {!known.isPending && known.users.length === 0 && (
            <p className="muted">Join a server to meet people first.</p>
          )}
          <ul className="people">
            {people.map((user) => {
              const checked = chosen.includes(user.id);
              return (
                <li key={user.id}>
                  <label className={checked ? 'checked' : undefined}>
                    <input
                      type="checkbox"
                      checked={checked}
                      disabled={!checked && full}
                      onChange={() => toggle(user.id)}
                    />
                    <Avatar id={user.id} name={user.username} size={28} />
                    <span className="person-name">{user.username}</span>
                  </label>
                </li>
              );
            })}
          </ul>
          {tried && peopleProblem && (
            <p className="field-error" role="alert">
              {peopleProblem}
            </p>
          )}
        </fieldset>
        {create.error && !serverField('name') && (
          <p className="notice notice-error" role="alert">
            {errorMessage(create.error)}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button" disabled={create.isPending}>
            Create group
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Adds people the viewer knows to a group, one at a time (as the API does). */
export function AddPeopleDialog({ conversation, meId, onClose }: { conversation: Conversation; meId: number; onClose: () => void }) {
  const known = useKnownUsers(meId);
  const add = useAddParticipant(conversation.id);
  const [filter, setFilter] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const inGroup = new Set(conversation.participants.map((p) => p.id));
  const room = GROUP_MAX_PARTICIPANTS - conversation.participants.length;
  const people = matching(
    known.users.filter((u) => !inGroup.has(u.id)),
    filter,
  );

  return (
    <Modal
      title={`Add people to ${conversationTitle(conversation, meId)}`}
      description={
        room > 0
          ? `A group has at most ${GROUP_MAX_PARTICIPANTS} people: ${room} more can join.`
          : `This group is full: it has ${GROUP_MAX_PARTICIPANTS} people.`
      }
      onClose={onClose}
      className="group-dialog"
    >
      <FindPeople value={filter} onChange={setFilter} />
      {known.isPending && known.users.length === 0 && <Loading label="Finding people you know…" />}
      <ul className="people">
        {people.map((user) => (
          <li key={user.id}>
            <span className="person">
              <Avatar id={user.id} name={user.username} size={28} />
              <span className="person-name">{user.username}</span>
            </span>
            <button
              type="button"
              className="button secondary"
              aria-label={`Add ${user.username}`}
              disabled={add.isPending || room <= 0}
              onClick={() => {
                setAdded(null);
                add.mutate(user.id, { onSuccess: () => setAdded(`${user.username} was added.`) });
              }}
            >
              Add
            </button>
          </li>
        ))}
      </ul>
      {!known.isPending && people.length === 0 && <p className="muted">Nobody else you know is left to add.</p>}
      <p role="status" className="field-hint">
        {added}
      </p>
      {add.error && (
        <p className="notice notice-error" role="alert">
          {errorMessage(add.error)}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}
