<?php
/**
 * Plugin Name:       shipflow delivery estimate
 * Description:       Shows shipflow's "Get it by ..." delivery estimate on product pages: the [shipflow_edd] shortcode and an automatic block under the add-to-cart button.
 * Version:           1.0.0
 * Requires at least: 6.0
 * Requires PHP:      7.4
 * WC requires at least: 7.0
 * Text Domain:       shipflow-edd
 *
 * The widget is shipflow's own script (/widget/v1/edd-widget.js) embedded with the product's
 * SKU and the brand's code; it asks shipflow for the date and hides itself on any error.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const SHIPFLOW_EDD_OPTION = 'shipflow_edd';

/** The saved settings, with defaults: shipflow's URL, the brand code, the automatic block. */
function shipflow_edd_settings() {
	$saved = get_option( SHIPFLOW_EDD_OPTION, array() );
	return wp_parse_args(
		is_array( $saved ) ? $saved : array(),
		array(
			'url'     => '',
			'brand'   => '',
			'country' => '',
			'auto'    => '1',
		)
	);
}

/**
 * The widget's markup for one SKU: an empty target and the script tag that fills it.
 * Returns '' when shipflow is not configured or the product has no SKU.
 */
function shipflow_edd_embed( $sku, $country = '' ) {
	$settings = shipflow_edd_settings();
	if ( '' === $settings['url'] || '' === $settings['brand'] || '' === (string) $sku ) {
		return '';
	}
	$target  = 'shipflow-edd-' . wp_unique_id();
	$country = '' !== $country ? $country : ( '' !== $settings['country'] ? $settings['country'] : WC()->countries->get_base_country() );
	$script  = trailingslashit( $settings['url'] ) . 'widget/v1/edd-widget.js';
	return sprintf(
		'<div id="%1$s" class="shipflow-edd"></div><script src="%2$s" async data-brand="%3$s" data-sku="%4$s" data-country="%5$s" data-lang="%6$s" data-target="#%1$s"></script>',
		esc_attr( $target ),
		esc_url( $script ),
		esc_attr( $settings['brand'] ),
		esc_attr( $sku ),
		esc_attr( strtoupper( $country ) ),
		esc_attr( str_replace( '_', '-', determine_locale() ) )
	);
}

/** The current product's SKU (a variable product's own SKU; variations share the widget). */
function shipflow_edd_current_sku() {
	global $product;
	return ( $product instanceof WC_Product ) ? (string) $product->get_sku() : '';
}

/**
 * [shipflow_edd] on a product page, or [shipflow_edd sku="TENT-2P" country="TW"] anywhere.
 */
function shipflow_edd_shortcode( $atts ) {
	$atts = shortcode_atts(
		array(
			'sku'     => '',
			'country' => '',
		),
		$atts,
		'shipflow_edd'
	);
	$sku  = '' !== $atts['sku'] ? $atts['sku'] : shipflow_edd_current_sku();
	return shipflow_edd_embed( sanitize_text_field( $sku ), sanitize_text_field( $atts['country'] ) );
}
add_shortcode( 'shipflow_edd', 'shipflow_edd_shortcode' );

/** Under the price and add-to-cart button (priority 35: after the excerpt, before meta). */
function shipflow_edd_product_summary() {
	$settings = shipflow_edd_settings();
	if ( '1' === $settings['auto'] ) {
		echo shipflow_edd_embed( shipflow_edd_current_sku() ); // phpcs:ignore WordPress.Security.EscapeOutput -- escaped in shipflow_edd_embed().
	}
}
add_action( 'woocommerce_single_product_summary', 'shipflow_edd_product_summary', 35 );

/** Settings > shipflow delivery estimate. */
function shipflow_edd_sanitize( $input ) {
	$input = is_array( $input ) ? $input : array();
	return array(
		'url'     => esc_url_raw( isset( $input['url'] ) ? trim( $input['url'] ) : '', array( 'https', 'http' ) ),
		'brand'   => sanitize_key( isset( $input['brand'] ) ? $input['brand'] : '' ),
		'country' => strtoupper( substr( sanitize_text_field( isset( $input['country'] ) ? $input['country'] : '' ), 0, 2 ) ),
		'auto'    => empty( $input['auto'] ) ? '0' : '1',
	);
}

function shipflow_edd_register_settings() {
	register_setting(
		'shipflow_edd',
		SHIPFLOW_EDD_OPTION,
		array(
			'type'              => 'array',
			'sanitize_callback' => 'shipflow_edd_sanitize',
		)
	);
}
add_action( 'admin_init', 'shipflow_edd_register_settings' );

function shipflow_edd_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$settings = shipflow_edd_settings();
	$name     = SHIPFLOW_EDD_OPTION;
	?>
	<div class="wrap">
		<h1><?php echo esc_html__( 'shipflow delivery estimate', 'shipflow-edd' ); ?></h1>
		<form method="post" action="options.php">
			<?php settings_fields( 'shipflow_edd' ); ?>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><label for="shipflow-edd-url"><?php echo esc_html__( 'shipflow URL', 'shipflow-edd' ); ?></label></th>
					<td><input id="shipflow-edd-url" class="regular-text" type="url" name="<?php echo esc_attr( $name ); ?>[url]" value="<?php echo esc_attr( $settings['url'] ); ?>" placeholder="https://shipflow.example" /></td>
				</tr>
				<tr>
					<th scope="row"><label for="shipflow-edd-brand"><?php echo esc_html__( 'Brand code', 'shipflow-edd' ); ?></label></th>
					<td><input id="shipflow-edd-brand" type="text" name="<?php echo esc_attr( $name ); ?>[brand]" value="<?php echo esc_attr( $settings['brand'] ); ?>" /></td>
				</tr>
				<tr>
					<th scope="row"><label for="shipflow-edd-country"><?php echo esc_html__( 'Destination country (blank: the store\'s)', 'shipflow-edd' ); ?></label></th>
					<td><input id="shipflow-edd-country" type="text" maxlength="2" size="3" name="<?php echo esc_attr( $name ); ?>[country]" value="<?php echo esc_attr( $settings['country'] ); ?>" /></td>
				</tr>
				<tr>
					<th scope="row"><?php echo esc_html__( 'Product pages', 'shipflow-edd' ); ?></th>
					<td><label><input type="checkbox" name="<?php echo esc_attr( $name ); ?>[auto]" value="1" <?php checked( '1', $settings['auto'] ); ?> /> <?php echo esc_html__( 'Show the estimate under the add-to-cart button', 'shipflow-edd' ); ?></label></td>
				</tr>
			</table>
			<?php submit_button(); ?>
		</form>
	</div>
	<?php
}

function shipflow_edd_admin_menu() {
	add_options_page(
		__( 'shipflow delivery estimate', 'shipflow-edd' ),
		__( 'shipflow delivery estimate', 'shipflow-edd' ),
		'manage_options',
		'shipflow-edd',
		'shipflow_edd_settings_page'
	);
}
add_action( 'admin_menu', 'shipflow_edd_admin_menu' );
