SELECT nextval('entities_id_seq') FROM generate_series(1, %s)
