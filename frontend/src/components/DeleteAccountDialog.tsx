import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../api/errors';
import { useDeleteAccount } from '../auth/session';
import { TextField } from './Field';
import { Modal } from './Modal';

/**
 * Deleting my account, confirmed by my password (`DELETE /api/me/`). Done: the session ends
 * and the login page says so (auth/session.tsx `useDeleteAccount`). A 401 is a wrong password.
 */
export function DeleteAccountDialog({ onClose }: { onClose: () => void }) {
  const remove = useDeleteAccount();
  const [password, setPassword] = useState('');
  const [missing, setMissing] = useState(false);

  const error = missing
    ? 'Enter your password.'
    : remove.error instanceof ApiError && remove.error.status === 401
      ? 'Wrong password'
      : remove.error
        ? errorMessage(remove.error)
        : undefined;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (remove.isPending) return;
    if (password === '') {
      setMissing(true);
      return;
    }
    remove.mutate(password);
  };

  return (
    <Modal
      title="Delete your account?"
      description="Your servers (with their channels and messages), your memberships, your place in conversations and your messages are deleted for good. Enter your password to confirm."
      onClose={onClose}
    >
      <form onSubmit={onSubmit} noValidate>
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          error={error}
          onChange={(event) => {
            setPassword(event.target.value);
            setMissing(false);
            if (remove.error) remove.reset();
          }}
        />
        <div className="dialog-actions">
          <button type="button" className="button secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button danger" disabled={remove.isPending}>
            Delete account
          </button>
        </div>
      </form>
    </Modal>
  );
}
