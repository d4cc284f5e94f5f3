import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type ChangeEvent, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../api/context';
import { ApiError, errorMessage, unwrap } from '../api/errors';
import { keys, mergeServer } from '../api/queries';
import type { Server } from '../api/types';
import { TextField } from './Field';

const IMAGE_TYPES = 'image/png,image/jpeg,image/gif,image/webp';

/** What only a server's owner sees: a new channel, the icon and the banner. */
export function OwnerTools({ server }: { server: Server }) {
  return (
    <section className="owner-tools" aria-labelledby="owner-tools-title">
      <h2 id="owner-tools-title" className="side-title">
        Manage server
      </h2>
      <CreateChannelForm server={server} />
      <ImageUpload server={server} kind="icon" label="Server icon" hint="PNG, JPEG, GIF or WebP; at most 70×70 pixels and 2 MiB." />
      <ImageUpload server={server} kind="banner" label="Server banner" hint="PNG, JPEG, GIF or WebP; at most 2 MiB." />
    </section>
  );
}

function CreateChannelForm({ server }: { server: Server }) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: (channelName: string) =>
      unwrap(
        client.POST('/api/servers/{server_id}/channels/', {
          params: { path: { server_id: server.id } },
          body: { name: channelName },
        }),
      ),
    onSuccess: (channel) => {
      setName('');
      queryClient.setQueryData<Server>(keys.server(server.id), (old) =>
        old && !old.channel_server.some((c) => c.id === channel.id)
          ? { ...old, channel_server: [...old.channel_server, channel] }
          : old,
      );
      navigate(`/servers/${server.id}/channels/${channel.id}`);
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate(name.trim());
  };
  const error = create.error;
  const nameError = error instanceof ApiError ? (error.fieldError('name') ?? error.message) : error ? errorMessage(error) : undefined;

  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label="New channel" noValidate>
      <TextField
        label="Channel name"
        name="channel-name"
        maxLength={100}
        value={name}
        error={nameError}
        onChange={(e) => setName(e.target.value)}
      />
      <button type="submit" className="button" disabled={create.isPending || !name.trim()}>
        Create channel
      </button>
    </form>
  );
}

function ImageUpload({ server, kind, label, hint }: { server: Server; kind: 'icon' | 'banner'; label: string; hint: string }) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const id = useId();
  const upload = useMutation({
    mutationFn: (file: File) => {
      const options = {
        params: { path: { server_id: server.id } },
        // The generated type says `string` for a binary field; the wire format is a form.
        body: { file: file as unknown as string },
        bodySerializer: (body: { file: string }) => {
          const form = new FormData();
          form.append('file', body.file as unknown as Blob);
          return form;
        },
      };
      return unwrap(
        kind === 'icon'
          ? client.PUT('/api/servers/{server_id}/icon/', options)
          : client.PUT('/api/servers/{server_id}/banner/', options),
      );
    },
    onSuccess: (view) => {
      mergeServer(queryClient, server.id, view);
      void queryClient.invalidateQueries({ queryKey: keys.allServers });
    },
  });
  const onChange = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) upload.mutate(file);
    event.target.value = '';
  };

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="file"
        accept={IMAGE_TYPES}
        aria-describedby={`${id}-hint`}
        disabled={upload.isPending}
        onChange={onChange}
      />
      <p id={`${id}-hint`} className="field-hint">
        {hint}
      </p>
      {upload.isPending && <p role="status">Uploading…</p>}
      {upload.isSuccess && <p role="status">{kind === 'icon' ? 'Icon updated.' : 'Banner updated.'}</p>}
      {upload.error && (
        <p className="field-error" role="alert">
          {errorMessage(upload.error)}
        </p>
      )}
    </div>
  );
}
