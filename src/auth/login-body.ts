/** Parsing of `POST /auth/login` bodies: JSON `{"username","password"}` or an OAuth2 form. */

export const MAX_LOGIN_BODY_BYTES = 16 * 1024;

export type LoginBody =
  { ok: true; username: string; password: string } | { ok: false; detail: string };

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * Reads the credentials from a JSON or form body. Other fields (`grant_type`, `scope`,
 * `client_id`, ...) are ignored. Without a known content type the body is read as JSON when it
 * starts with `{`, else as a form.
 */
export function parseLoginBody(body: Buffer, contentType: string | undefined): LoginBody {
  if (body.length > MAX_LOGIN_BODY_BYTES) {
    return { ok: false, detail: `Login body is larger than ${MAX_LOGIN_BODY_BYTES} bytes` };
  }

  const text = body.toString('utf8');
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const isJson = mediaType === 'application/json' || mediaType.endsWith('+json');
  const isForm = mediaType === FORM_TYPE;
  const parsed =
    isJson || (!isForm && text.trimStart().startsWith('{'))
      ? parseJsonFields(text)
      : parseFormFields(text);
  if (!parsed.ok) return parsed;

  const { username, password } = parsed.fields;
  const missing = [
    ...(typeof username === 'string' ? [] : ['username']),
    ...(typeof password === 'string' ? [] : ['password']),
  ];
  if (missing.length > 0) {
    const names = missing.map((name) => `'${name}'`).join(' and ');
    return {
      ok: false,
      detail: `Missing ${names} in the login body; send username and password as JSON or as a ${FORM_TYPE} form`,
    };
  }
  return { ok: true, username: String(username), password: String(password) };
}

type Fields = { ok: true; fields: Record<string, unknown> } | { ok: false; detail: string };

function parseJsonFields(text: string): Fields {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      ok: false,
      detail: 'Login body is not valid JSON; send {"username": "...", "password": "..."}',
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, detail: 'Login body must be a JSON object with "username" and "password"' };
  }
  return { ok: true, fields: value as Record<string, unknown> };
}

function parseFormFields(text: string): Fields {
  const form = new URLSearchParams(text);
  const fields: Record<string, unknown> = {};
  for (const name of ['username', 'password']) {
    const value = form.get(name);
    if (value !== null) fields[name] = value;
  }
  return { ok: true, fields };
}
