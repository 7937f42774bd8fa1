// (to be written: see fd engine task)
