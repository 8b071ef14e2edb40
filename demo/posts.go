package demo

import (
	"net/http"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/problem"
)

// listPosts is GET /api/posts with optional authentication: anonymous
// callers see the published posts' ids and titles, logged-in callers every
// post with every field (RestMachine's optional-authentication example).
func (a *App) listPosts(w http.ResponseWriter, r *http.Request) {
	posts := a.data.listPosts()
	if _, ok := authn.FromContext(r.Context()); ok {
		writeJSON(w, http.StatusOK, map[string]any{"posts": posts})
		return
	}
	type summary struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
	}
	out := []summary{}
	for _, p := range posts {
		if p.Published {
			out = append(out, summary{p.ID, p.Title})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"posts": out})
}

// loadPost finds the post named in the path, answering 404 when there is
// none — before any ownership check, so a stranger learns nothing more.
func (a *App) loadPost(w http.ResponseWriter, r *http.Request) (Post, bool) {
	p, ok := a.data.post(r.PathValue("id"))
	if !ok {
		a.deny("demo").Deny(w, r, problem.NotFound())
	}
	return p, ok
}

func (a *App) getPost(w http.ResponseWriter, r *http.Request) {
	if p, ok := a.loadPost(w, r); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

type postUpdate struct {
	Title     *string `json:"title" validate:"omitempty,min=1,max=200"`
	Body      *string `json:"body" validate:"omitempty,max=10000"`
	Published *bool   `json:"published"`
}

// updatePost is PUT /api/posts/{id}: owner or admin only.
func (a *App) updatePost(w http.ResponseWriter, r *http.Request) {
	p, ok := a.loadPost(w, r)
	if !ok || !a.auth.authz.RequireOwner(w, r, p.Owner) {
		return
	}
	in, prob := bind.Decode[postUpdate](w, r)
	if prob != nil {
		a.deny("demo").Deny(w, r, prob)
		return
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Body != nil {
		p.Body = *in.Body
	}
	if in.Published != nil {
		p.Published = *in.Published
	}
	a.data.updatePost(p)
	writeJSON(w, http.StatusOK, p)
}

// deletePost is DELETE /api/posts/{id}: owner or admin only.
func (a *App) deletePost(w http.ResponseWriter, r *http.Request) {
	p, ok := a.loadPost(w, r)
	if !ok || !a.auth.authz.RequireOwner(w, r, p.Owner) {
		return
	}
	a.data.deletePost(p.ID)
	w.WriteHeader(http.StatusNoContent)
}
