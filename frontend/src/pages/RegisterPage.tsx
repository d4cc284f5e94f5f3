import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, errorMessage } from '../api/errors';
import { useRegister } from '../auth/session';
import { TextField } from '../components/Field';

export function RegisterPage() {
  const navigate = useNavigate();
  const register = useRegister();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    register.mutate(
      { username: username.trim(), password },
      {
        onSuccess: (account) =>
          navigate('/login', {
            state: { notice: 'Account created. You can log in now.', username: account.username },
          }),
      },
    );
  };
  const error = register.error;
  const fieldError = (field: string) => (error instanceof ApiError ? error.fieldError(field) : undefined);
  const hasFieldErrors = error instanceof ApiError && Object.keys(error.fields).length > 0;

  return (
    <section className="page narrow auth">
      <h1>Create an account</h1>
      <form onSubmit={onSubmit} noValidate>
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          required
          maxLength={150}
          hint="Letters, digits and @ . + - _"
          value={username}
          error={fieldError('username')}
          onChange={(e) => setUsername(e.target.value)}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          hint="At least 8 characters, not only digits."
          value={password}
          error={fieldError('password')}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error && !hasFieldErrors && (
          <p className="notice notice-error" role="alert">
            {errorMessage(error)}
          </p>
        )}
        <button type="submit" className="button" disabled={register.isPending}>
          Create account
        </button>
      </form>
    </section>
  );
}
