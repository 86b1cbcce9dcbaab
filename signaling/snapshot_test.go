package signaling

// roomsOf is Socket.IO's adapter.rooms for this node (room → socket ids,
// each socket's own room included), built from the paginated listings.
func roomsOf(n *Namespace) map[string][]string {
	out := map[string][]string{}
	for _, r := range allRooms(n, RoomQuery{Limit: 7}) {
		for _, s := range allSockets(n, SocketQuery{Room: r.Name, Limit: 3}) {
			out[r.Name] = append(out[r.Name], s.ID)
		}
	}
	for _, s := range allSockets(n, SocketQuery{Limit: 5}) {
		out[s.ID] = []string{s.ID}
	}
	return out
}

// sidsOf is Socket.IO's adapter.sids for this node (socket id → rooms, its
// own included).
func sidsOf(n *Namespace) map[string][]string {
	out := map[string][]string{}
	for _, v := range allSockets(n, SocketQuery{Limit: 5}) {
		if s := n.Socket(v.ID); s != nil {
			out[v.ID] = s.Rooms()
		}
	}
	return out
}

// allRooms walks every page of a room listing.
func allRooms(n *Namespace, q RoomQuery) []RoomView {
	var out []RoomView
	for {
		p := n.ListRooms(q)
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

// allSockets walks every page of a socket listing.
func allSockets(n *Namespace, q SocketQuery) []SocketView {
	var out []SocketView
	for {
		p := n.ListSockets(q)
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}
