import { useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError, errorMessage } from '../api/errors';
import { useMe } from '../api/queries';
import { useLogin, useSignedOutNotice } from '../auth/session';
import { TextField } from '../components/Field';

interface LoginState {
  from?: string;
  notice?: string;
  username?: string;
}

export function LoginPage() {
  const location = useLocation();
  const state = (location.state ?? {}) as LoginState;
  const navigate = useNavigate();
  const me = useMe();
  const login = useLogin();
  // Sent here with a notice, or signed out by the app (the account was deleted) on the way.
  const signedOut = useSignedOutNotice();
  const notice = state.notice ?? signedOut;
  const [username, setUsername] = useState(state.username ?? '');
  const [password, setPassword] = useState('');

  if (me.data && !login.isPending && !login.isSuccess) return <Navigate to={state.from ?? '/'} replace />;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate(
      { username: username.trim(), password },
      { onSuccess: () => navigate(state.from ?? '/', { replace: true }) },
    );
  };
  const fieldError = (field: string) =>
    login.error instanceof ApiError ? login.error.fieldError(field) : undefined;

  return (
    <section className="page narrow auth">
      <h1>Log in</h1>
      {notice && !login.error && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={onSubmit} noValidate>
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          required
          value={username}
          error={fieldError('username')}
          onChange={(e) => setUsername(e.target.value)}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          error={fieldError('password')}
          onChange={(e) => setPassword(e.target.value)}
        />
        {login.error && (
          <p className="notice notice-error" role="alert">
            {errorMessage(login.error)}
          </p>
        )}
        <button type="submit" className="button" disabled={login.isPending}>
          Log in
        </button>
      </form>
      <p>
        New to Hearth? <Link to="/register">Create an account</Link>
      </p>
    </section>
  );
}
