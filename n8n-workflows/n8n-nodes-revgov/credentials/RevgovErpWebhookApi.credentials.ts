import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/** What an ERP needs to push signed events: the tenant id and its webhook secret (no API key). */
export class RevgovErpWebhookApi implements ICredentialType {
	name = 'revgovErpWebhookApi';

	displayName = 'Revgov ERP Webhook';

	documentationUrl = 'https://revgov.dev/docs/api';

	properties: INodeProperties[] = [
		{ displayName: 'Base URL', name: 'baseUrl', type: 'string', default: 'http://127.0.0.1:8000' },
		{ displayName: 'Tenant ID', name: 'tenantId', type: 'string', default: '' },
		{
			displayName: 'Webhook Secret',
			name: 'webhookSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'The tenant webhook secret; each request is signed with HMAC-SHA256 over "{t}.{raw body}"',
		},
	];
}
