/* smtp_addr.c - being written this session */
