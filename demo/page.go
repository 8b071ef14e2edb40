package demo

import "html/template"

// appPage is GET /app: one page, two states. html/template escapes every
// value in its context (a note "<script>" is shown, never run); the inline
// style carries the response's CSP nonce, and the page loads nothing from
// anywhere else. Forms post to this origin (the CSP's form-action 'self'),
// each with its csrf_token field.
var appPage = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .User}}Notes · {{.User}}{{else}}Sign in{{end}} · Bulwark demo</title>
<style nonce="{{.Nonce}}">
  :root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6575; --bg: #f4f6f9; --card: #fff; --line: #dde2ea; --accent: #2457c5; --bad: #b3261e; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b2; --bg: #14171c; --card: #1c2027; --line: #2e343e; --accent: #7aa2ff; --bad: #ff8a80; } }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { border-bottom: 1px solid var(--line); background: var(--card); }
  .bar { max-width: 40rem; margin: 0 auto; padding: .8rem 1.25rem; display: flex; align-items: center; justify-content: space-between; gap: 1rem; }
  .brand { font-weight: 650; letter-spacing: .01em; }
  .brand small { color: var(--muted); font-weight: 400; margin-left: .4rem; }
  main { max-width: 40rem; margin: 2rem auto; padding: 0 1.25rem; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.5rem; margin-bottom: 1.5rem; }
  h1 { font-size: 1.35rem; margin: 0 0 .3rem; }
  h2 { font-size: 1.05rem; margin: 0 0 .8rem; }
  p.lead { color: var(--muted); margin: 0 0 1.2rem; }
  label { display: block; font-size: .9rem; font-weight: 600; margin: .9rem 0 .3rem; }
  input[type=text], input[type=password], textarea { width: 100%; padding: .55rem .7rem; font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 7px; }
  textarea { min-height: 5.5rem; resize: vertical; }
  input:focus, textarea:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
  button { font: inherit; font-weight: 600; padding: .5rem 1.1rem; border-radius: 7px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; margin-top: 1rem; }
  button.quiet { background: transparent; color: var(--accent); margin: 0; padding: .3rem .8rem; }
  .error { color: var(--bad); border: 1px solid var(--bad); border-radius: 7px; padding: .55rem .8rem; margin: 0 0 1rem; }
  ul.notes { list-style: none; margin: 0; padding: 0; }
  ul.notes li { border-top: 1px solid var(--line); padding: .75rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  ul.notes li:first-child { border-top: 0; padding-top: 0; }
  ul.notes time { display: block; color: var(--muted); font-size: .8rem; }
  .empty { color: var(--muted); font-style: italic; }
  .hint { color: var(--muted); font-size: .85rem; margin: 1rem 0 0; }
  code { font-size: .9em; }
</style>
</head>
<body>
<header><div class="bar">
  <span class="brand">Bulwark<small>demo notes</small></span>
  {{- if .User}}
  <form method="post" action="/session/logout">
    <input type="hidden" name="csrf_token" value="{{.Token}}">
    <span>{{.User}}</span> <button class="quiet" type="submit">Log out</button>
  </form>
  {{- end}}
</div></header>
<main>
{{- if .User}}
  <section class="card">
    <h1>Your notes</h1>
    <p class="lead">Signed in as <strong>{{.User}}</strong>{{range .Roles}} ({{.}}){{end}}. Notes are kept per user, newest first.</p>
    {{- if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
    <form method="post" action="/app/notes">
      <input type="hidden" name="csrf_token" value="{{.Token}}">
      <label for="text">New note</label>
      <textarea id="text" name="text" maxlength="500" required placeholder="Up to 500 characters"></textarea>
      <button type="submit">Add note</button>
    </form>
  </section>
  <section class="card">
    <h2>Saved</h2>
    {{- if .Notes}}
    <ul class="notes">
      {{- range .Notes}}
      <li>{{.Text}}<time datetime="{{.At.Format "2006-01-02T15:04:05Z07:00"}}">{{.At.Format "2 Jan 2006, 15:04 UTC"}}</time></li>
      {{- end}}
    </ul>
    {{- else}}
    <p class="empty">No notes yet.</p>
    {{- end}}
  </section>
{{- else}}
  <section class="card">
    <h1>Sign in</h1>
    <p class="lead">A small page protected by a server-side session and layered CSRF checks.</p>
    {{- if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
    <form method="post" action="/session/login">
      <input type="hidden" name="csrf_token" value="{{.Token}}">
      <label for="username">Username</label>
      <input id="username" name="username" type="text" autocomplete="username" required value="{{.Username}}">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">Sign in</button>
    </form>
    <p class="hint">Demo accounts: <code>alice</code> / <code>wonderland-2026</code>, <code>bob</code> / <code>builder-2026</code>.</p>
  </section>
{{- end}}
</main>
</body>
</html>
`))
