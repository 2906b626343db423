/* channel_session.h - being written this session */
