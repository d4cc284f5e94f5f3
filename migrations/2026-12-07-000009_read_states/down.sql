DROP TABLE read_states;
