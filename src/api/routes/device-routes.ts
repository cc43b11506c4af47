import { z } from 'zod';
import type { AccountServices } from '../../accounts/account-services.js';
import { schemas } from '../../accounts/index.js';
import { deviceAnswer, deviceSummaryAnswer } from '../answer-schemas.js';
import { reply } from '../envelope.js';
import type { RouteSpec } from '../route-spec.js';
import { deviceSummary, deviceView } from '../views.js';
import { param, requestData } from './request-data.js';

/** Devices of an account (api-contract.md). */
export function deviceRoutes(services: AccountServices): RouteSpec[] {
  const { devices } = services;
  const base = '/v2/accounts/:accountId/devices';
  return [
    {
      method: 'get',
      path: base,
      summary: 'List the devices of an account (summaries)',
      tag: 'devices',
      auth: 'account',
      success: 200,
      answer: z.array(deviceSummaryAnswer),
      handle: (ctx) => reply(ctx, 200, devices.list(ctx.state.account!.id).map(deviceSummary)),
    },
    {
      method: 'put',
      path: base,
      summary: 'Create a device',
      tag: 'devices',
      auth: 'account',
      body: schemas.deviceCreateSchema,
      success: 201,
      answer: deviceAnswer,
      handle: async (ctx) => reply(ctx, 201, deviceView(await devices.create(ctx.state.account!.id, requestData(ctx)), ctx.state.account!.realm)),
    },
    {
      method: 'get',
      path: `${base}/:deviceId`,
      summary: 'Read a device',
      tag: 'devices',
      auth: 'account',
      success: 200,
      answer: deviceAnswer,
      handle: (ctx) => reply(ctx, 200, deviceView(devices.get(ctx.state.account!.id, param(ctx, 'deviceId')), ctx.state.account!.realm)),
    },
    {
      method: 'post',
      path: `${base}/:deviceId`,
      summary: 'Replace a device; without sip.password the stored one stays',
      tag: 'devices',
      auth: 'account',
      body: schemas.deviceUpdateSchema,
      success: 200,
      answer: deviceAnswer,
      handle: async (ctx) =>
        reply(ctx, 200, deviceView(await devices.update(ctx.state.account!.id, param(ctx, 'deviceId'), requestData(ctx)), ctx.state.account!.realm)),
    },
    {
      method: 'delete',
      path: `${base}/:deviceId`,
      summary: 'Delete a device (its subscriptions and presence state stay)',
      tag: 'devices',
      auth: 'account',
      success: 200,
      answer: deviceAnswer,
      handle: (ctx) => reply(ctx, 200, deviceView(devices.delete(ctx.state.account!.id, param(ctx, 'deviceId')), ctx.state.account!.realm)),
    },
  ];
}
