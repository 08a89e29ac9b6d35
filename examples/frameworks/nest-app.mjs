// The NestJS app of nest-express.mjs and nest-fastify.mjs, in plain JavaScript: no build step. TypeScript's
// @Controller(), @Get() and @Module() are functions, applied here by hand.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';

export class HelloController {
  hello() {
    return 'hello from NestJS\n';
  }
}
Get()(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));
Controller()(HelloController);

export class AppModule {}
Module({ controllers: [HelloController] })(AppModule);
