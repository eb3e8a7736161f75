package detect

func (d *run) relate()                    {}
func (d *run) completeness() Completeness { return Completeness{} }
