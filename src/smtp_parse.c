/* smtp_parse.c - being written this session */
