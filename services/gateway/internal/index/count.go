package index

// Count is the number of entries (thumbnail seconds) stored for stream; 0
// for an unknown stream. It is the length of the stream's time column: no
// transaction, exact whatever deletes entries.
func (d *DB) Count(stream string) (int, error) {
	c := d.column(stream)
	if c == nil {
		return 0, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.n, nil
}
