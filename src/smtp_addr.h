/* smtp_addr.h - being written this session */
