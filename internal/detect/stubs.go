package detect

func (d *run) series()                     {}
func (d *run) reliability()                {}
func (d *run) ufds()                       {}
func (d *run) relate()                     {}
func (d *run) surveys() (string, *float64) { return RatingUnknown, nil }
func (d *run) completeness() Completeness  { return Completeness{} }
