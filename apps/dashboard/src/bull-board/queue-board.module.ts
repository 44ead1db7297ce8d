import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Inject, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ALL_QUEUES } from '#osa/queues';
import { Authenticator } from '../auth/authenticator.js';
import { boardAuth } from './board-auth.middleware.js';

export const QUEUE_BOARD_ROUTE = '/queues';
type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
const BOARD_ADAPTER = Symbol('BOARD_ADAPTER');

/**
 * Bull Board for every pipeline queue at /queues, behind the dashboard's credentials and scopes
 * (runs:read to view, ingestions:write to change a queue). The check is the first middleware of
 * the board's own chain: Nest guards run only for Nest route handlers, never for
 * middleware-mounted routes such as the board's, so a guard would leave it open.
 */
@Module({})
export class QueueBoardModule implements NestModule {
  constructor(
    @Inject(BOARD_ADAPTER) private readonly adapter: ExpressAdapter,
    private readonly auth: Authenticator,
  ) {}

  static forRoot(): DynamicModule {
    return {
      module: QueueBoardModule,
      providers: [
        {
          provide: BOARD_ADAPTER,
          useFactory: (...queues: Queue[]) => {
            const adapter = new ExpressAdapter();
            adapter.setBasePath(QUEUE_BOARD_ROUTE);
            createBullBoard({
              queues: queues.map((queue) => new BullMQAdapter(queue)),
              // @bull-board/express 9.10.1 carries its own copy of @bull-board/api's types.
              serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
              options: { uiConfig: { boardTitle: 'osa-ingest' } },
            });
            return adapter;
          },
          inject: ALL_QUEUES.map((name) => getQueueToken(name)),
        },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // The adapter types its Express router as `any`.
    consumer.apply(boardAuth(this.auth), this.adapter.getRouter() as Middleware).forRoutes(QUEUE_BOARD_ROUTE);
  }
}
