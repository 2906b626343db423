/* io.h - being written this session */
