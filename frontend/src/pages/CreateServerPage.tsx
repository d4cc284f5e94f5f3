import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../api/context';
import { ApiError, errorMessage, unwrap } from '../api/errors';
import { keys, useCategories } from '../api/queries';
import { TextAreaField, TextField } from '../components/Field';

export function CreateServerPage() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const categories = useCategories();
  const [name, setName] = useState('');
  const [category, setCategory] = useState('');
  const [description, setDescription] = useState('');

  const create = useMutation({
    mutationFn: (body: { name: string; category: string; description: string }) =>
      unwrap(client.POST('/api/servers/', { body })),
    onSuccess: (server) => {
      queryClient.setQueryData(keys.server(server.id), server);
      queryClient.setQueryData(keys.membership(server.id), true);
      void queryClient.invalidateQueries({ queryKey: keys.allServers });
      navigate(`/servers/${server.id}`);
    },
  });

  const chosen = category || categories.data?.[0]?.name || '';
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), category: chosen, description: description.trim() });
  };
  const error = create.error;
  const fieldError = (field: string) => (error instanceof ApiError ? error.fieldError(field) : undefined);
  const categoryError = fieldError('category');

  return (
    <section className="page narrow">
      <h1>Create a server</h1>
      <form onSubmit={onSubmit} noValidate>
        <TextField
          label="Name"
          name="name"
          required
          maxLength={100}
          value={name}
          error={fieldError('name')}
          onChange={(e) => setName(e.target.value)}
        />
        <div className="field">
          <label htmlFor="server-category">Category</label>
          <select
            id="server-category"
            name="category"
            required
            value={chosen}
            aria-invalid={categoryError ? true : undefined}
            aria-describedby={categoryError ? 'server-category-error' : undefined}
            onChange={(e) => setCategory(e.target.value)}
          >
            {categories.data?.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
          {categoryError && (
            <p id="server-category-error" className="field-error" role="alert">
              {categoryError}
            </p>
          )}
          {categories.isError && (
            <p className="field-error" role="alert">
              Could not load the categories: {errorMessage(categories.error)}
            </p>
          )}
        </div>
        <TextAreaField
          label="Description"
          name="description"
          rows={3}
          maxLength={500}
          value={description}
          error={fieldError('description')}
          onChange={(e) => setDescription(e.target.value)}
        />
        {error && !(error instanceof ApiError && Object.keys(error.fields).length > 0) && (
          <p className="notice notice-error" role="alert">
            {errorMessage(error)}
          </p>
        )}
        <button type="submit" className="button" disabled={create.isPending || !chosen}>
          Create server
        </button>
      </form>
    </section>
  );
}
